using ILGPU;

namespace Lmu.Gpu.Kernels.Spiking;

/// <summary>The per-step constants of the spiking LMU's neuron kernel.</summary>
public readonly struct SpikingLmuStepParameters
{
    /// <summary>Creates the constants.</summary>
    /// <param name="neurons">All neurons, batch·d·n.</param>
    /// <param name="neuronsPerDimension">n.</param>
    /// <param name="order">d.</param>
    /// <param name="neuronType">0: Poisson over ReLU, 1: Poisson over the LIF rate curve, 2: LIF.</param>
    /// <param name="dt">The time step in seconds.</param>
    /// <param name="lif">LIF constants (rate curve and spiking LIF).</param>
    /// <param name="seedLow">Seed bits 0–31.</param>
    /// <param name="seedHigh">Seed bits 32–63.</param>
    /// <param name="step">The step number.</param>
    /// <param name="rasterNeurons">How many leading neurons to record in the raster (0: none).</param>
    /// <param name="rasterRow">The raster row (step) to write.</param>
    public SpikingLmuStepParameters(long neurons, int neuronsPerDimension, int order, int neuronType, float dt,
        LifParameters lif, uint seedLow, uint seedHigh, uint step, int rasterNeurons, int rasterRow)
    {
        Neurons = neurons;
        NeuronsPerDimension = neuronsPerDimension;
        Order = order;
        NeuronType = neuronType;
        Dt = dt;
        Lif = lif;
        SeedLow = seedLow;
        SeedHigh = seedHigh;
        Step = step;
        RasterNeurons = rasterNeurons;
        RasterRow = rasterRow;
    }

    /// <summary>All neurons, batch·d·n.</summary>
    public long Neurons { get; }

    /// <summary>Neurons per dimension n.</summary>
    public int NeuronsPerDimension { get; }

    /// <summary>The order d.</summary>
    public int Order { get; }

    /// <summary>0: Poisson over ReLU, 1: Poisson over the LIF rate curve, 2: LIF, 3: regular spiking over ReLU.</summary>
    public int NeuronType { get; }

    /// <summary>The time step in seconds.</summary>
    public float Dt { get; }

    /// <summary>LIF constants.</summary>
    public LifParameters Lif { get; }

    /// <summary>Seed bits 0–31.</summary>
    public uint SeedLow { get; }

    /// <summary>Seed bits 32–63.</summary>
    public uint SeedHigh { get; }

    /// <summary>The step number.</summary>
    public uint Step { get; }

    /// <summary>Leading neurons recorded in the raster.</summary>
    public int RasterNeurons { get; }

    /// <summary>The raster row to write.</summary>
    public int RasterRow { get; }
}
