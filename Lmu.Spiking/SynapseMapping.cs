namespace Lmu.Spiking;

/// <summary>How the LMU's continuous system is mapped onto the lowpass synapse (NEF principle 3).</summary>
public enum SynapseMapping
{
    /// <summary>Exact discrete mapping A' = (Ā − a·I)/(1 − a), B' = B̄/(1 − a), a = e^(−dt/τ) (Voelker &amp; Eliasmith 2018):
    /// the noiseless network reproduces the ZOH memory exactly.</summary>
    Discrete = 0,

    /// <summary>Continuous mapping A' = τ·A/θ + I, B' = τ·B/θ.</summary>
    Continuous = 1,
}
