namespace Lmu.Gpu.Kernels.Spiking;

/// <summary>The constants of a LIF neuron model (Nengo's <c>LIF</c>), passed by value to kernels.</summary>
/// <remarks>Construct through <c>Lmu.Spiking.LifModel</c>, which validates them.</remarks>
public readonly struct LifParameters
{
    /// <summary>Creates the constants.</summary>
    /// <param name="dt">The time step in seconds.</param>
    /// <param name="tauRc">The membrane time constant τ_rc in seconds.</param>
    /// <param name="tauRef">The refractory period τ_ref in seconds.</param>
    /// <param name="minVoltage">The voltage floor (Nengo: 0).</param>
    /// <param name="expM1Full">expm1(−dt/τ_rc), computed in double on the host.</param>
    public LifParameters(float dt, float tauRc, float tauRef, float minVoltage, float expM1Full)
    {
        Dt = dt;
        TauRc = tauRc;
        TauRef = tauRef;
        MinVoltage = minVoltage;
        ExpM1Full = expM1Full;
    }

    /// <summary>The time step in seconds.</summary>
    public float Dt { get; }

    /// <summary>The membrane time constant τ_rc in seconds.</summary>
    public float TauRc { get; }

    /// <summary>The refractory period τ_ref in seconds.</summary>
    public float TauRef { get; }

    /// <summary>The voltage floor.</summary>
    public float MinVoltage { get; }

    /// <summary>expm1(−dt/τ_rc): the voltage update factor of a full (non-refractory) step.</summary>
    public float ExpM1Full { get; }
}
