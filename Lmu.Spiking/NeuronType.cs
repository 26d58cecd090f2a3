namespace Lmu.Spiking;

/// <summary>The neuron models of the spiking LMU.</summary>
public enum NeuronType
{
    /// <summary>Poisson spiking over the rectified linear rate max(0, J) (Nengo: <c>PoissonSpiking(RectifiedLinear())</c>).</summary>
    PoissonRectifiedLinear = 0,

    /// <summary>Poisson spiking over the LIF rate curve (Nengo: <c>PoissonSpiking(LIFRate())</c>).</summary>
    PoissonLif = 1,

    /// <summary>Leaky integrate-and-fire with exact exponential integration, refractory period and sub-step spike
    /// timing (Nengo: <c>LIF()</c>).</summary>
    Lif = 2,

    /// <summary>Regular spiking over the rectified linear rate: each neuron integrates max(0, J)·dt and spikes once per
    /// whole unit, keeping the remainder, with no randomness after its random initial phase (Nengo:
    /// <c>SpikingRectifiedLinear()</c>, the neuron Loihi runs).</summary>
    SpikingRectifiedLinear = 3,
}

/// <summary>What the neuron types share.</summary>
public static class NeuronTypeExtensions
{
    /// <summary>True for the types whose rate curve is max(0, J) (gain and bias set for the rectified linear curve).</summary>
    /// <param name="type">The type.</param>
    /// <returns>Whether the rate is rectified linear.</returns>
    public static bool IsRectifiedLinear(this NeuronType type) => type is NeuronType.PoissonRectifiedLinear or NeuronType.SpikingRectifiedLinear;

    /// <summary>True for the types that keep a voltage per neuron (LIF, regular spiking).</summary>
    /// <param name="type">The type.</param>
    /// <returns>Whether a voltage is kept.</returns>
    public static bool HasVoltage(this NeuronType type) => type is NeuronType.Lif or NeuronType.SpikingRectifiedLinear;
}
