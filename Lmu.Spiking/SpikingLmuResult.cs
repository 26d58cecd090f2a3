namespace Lmu.Spiking;

/// <summary>The outcome of <see cref="SpikingLmu.Run"/>.</summary>
public sealed class SpikingLmuResult
{
    internal SpikingLmuResult(int steps, int batch, int order, float[] states, byte[] raster, int rasterNeurons, long spikes, double seconds, long neurons)
    {
        Steps = steps;
        Batch = batch;
        Order = order;
        States = states;
        Raster = raster;
        RasterNeurons = rasterNeurons;
        TotalSpikes = spikes;
        Seconds = seconds;
        NeuronUpdatesPerSecond = neurons * (double)steps / seconds;
    }

    /// <summary>The number of steps T.</summary>
    public int Steps { get; }

    /// <summary>The batch B.</summary>
    public int Batch { get; }

    /// <summary>The order d.</summary>
    public int Order { get; }

    /// <summary>The decoded memory state x̂ (= A'·(decoded filtered spikes) + B'·(filtered input)) per step:
    /// element [(t·B + b)·d + i].</summary>
    public IReadOnlyList<float> States { get; }

    /// <summary>Spike counts of the first <see cref="RasterNeurons"/> neurons per step: element [t·R + k].</summary>
    public IReadOnlyList<byte> Raster { get; }

    /// <summary>The number of neurons in the raster R.</summary>
    public int RasterNeurons { get; }

    /// <summary>All spikes of the run.</summary>
    public long TotalSpikes { get; }

    /// <summary>The wall time of the simulation loop in seconds.</summary>
    public double Seconds { get; }

    /// <summary>Neuron updates per second (B·d·n·T / seconds).</summary>
    public double NeuronUpdatesPerSecond { get; }
}
