namespace Lmu.Spiking;

/// <summary>The configuration of a <see cref="SpikingLmu"/>.</summary>
public sealed record SpikingLmuOptions
{
    /// <summary>The order d (number of ensembles per LMU).</summary>
    public required int Order { get; init; }

    /// <summary>The window θ in seconds.</summary>
    public required double Theta { get; init; }

    /// <summary>Neurons per dimension n (m = d·n per LMU).</summary>
    public required int NeuronsPerDimension { get; init; }

    /// <summary>The number of independent LMUs B (default 1).</summary>
    public int Batch { get; init; } = 1;

    /// <summary>The time step in seconds (default 1 ms).</summary>
    public double Dt { get; init; } = 0.001;

    /// <summary>The synapse time constant τ in seconds (default 50 ms).</summary>
    public double Tau { get; init; } = 0.05;

    /// <summary>The neuron model (default Poisson over ReLU).</summary>
    public NeuronType NeuronType { get; init; } = NeuronType.PoissonRectifiedLinear;

    /// <summary>The synapse mapping (default exact discrete).</summary>
    public SynapseMapping Mapping { get; init; } = SynapseMapping.Discrete;

    /// <summary>Lowest max rate in Hz (default 100).</summary>
    public double MaxRateLow { get; init; } = 100;

    /// <summary>Highest max rate in Hz (default 200).</summary>
    public double MaxRateHigh { get; init; } = 200;

    /// <summary>Lowest intercept (default −1).</summary>
    public double InterceptLow { get; init; } = -1;

    /// <summary>Highest intercept (default 0.5).</summary>
    public double InterceptHigh { get; init; } = 0.5;

    /// <summary>Decoder regularisation relative to the largest activity (Nengo: 0.1).</summary>
    public double Regularization { get; init; } = 0.1;

    /// <summary>The seed of the ensembles and the spikes.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>The representational radius of each state dimension: ensemble i encodes x_i / r_i ∈ [−1, 1]. Null
    /// means 1 for all; <see cref="SpikingLmu.MeasureRadii"/> gives the measured bound on an input.</summary>
    public IReadOnlyList<double>? Radii { get; init; }
}
