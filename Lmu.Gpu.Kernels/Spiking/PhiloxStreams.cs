namespace Lmu.Gpu.Kernels.Spiking;

/// <summary>The Philox stream numbers (counter word 3) that separate the library's uses of one seed.</summary>
public static class PhiloxStreams
{
    /// <summary>Spikes of a fixed-rate Poisson population.</summary>
    public const uint PoissonPopulation = 0;

    /// <summary>Initial voltages of a LIF population.</summary>
    public const uint LifInitialVoltage = 1;

    /// <summary>Spikes of the spiking LMU's Poisson neurons.</summary>
    public const uint LmuSpikes = 2;

    /// <summary>NEF ensemble parameters (encoders, max rates, intercepts).</summary>
    public const uint EnsembleParameters = 3;

    /// <summary>Test input signals.</summary>
    public const uint Signal = 4;

    /// <summary>Initial voltages of the spiking LMU's LIF neurons.</summary>
    public const uint LmuInitialVoltage = 5;

    /// <summary>Dropout masks in training (<see cref="Training.DropoutKernels"/>).</summary>
    public const uint Dropout = 6;
}
