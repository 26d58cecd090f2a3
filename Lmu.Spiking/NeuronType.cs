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
}
