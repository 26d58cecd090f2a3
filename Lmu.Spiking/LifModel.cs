using Lmu.Gpu.Kernels.Spiking;

namespace Lmu.Spiking;

/// <summary>The constants of the LIF model (Nengo's defaults τ_rc = 20 ms, τ_ref = 2 ms, floor 0) and its rate curve.</summary>
public sealed record LifModel
{
    /// <summary>Creates and validates a LIF model.</summary>
    /// <param name="dt">The time step in seconds, &gt; 0.</param>
    /// <param name="tauRc">The membrane time constant τ_rc in seconds, &gt; dt.</param>
    /// <param name="tauRef">The refractory period τ_ref in seconds, ≥ 0.</param>
    /// <param name="minVoltage">The voltage floor, ≤ 0 (Nengo: 0).</param>
    /// <exception cref="ArgumentOutOfRangeException">A constant is NaN, infinite or out of range (τ_rc ≤ 0, dt ≥ τ_rc,
    /// τ_ref &lt; 0, floor &gt; 0).</exception>
    public LifModel(double dt = 0.001, double tauRc = 0.02, double tauRef = 0.002, double minVoltage = 0.0)
    {
        SpikingValidation.TimeStep(dt);
        SpikingValidation.TimeConstant(tauRc, dt, nameof(tauRc));
        if (!(tauRef >= 0) || double.IsInfinity(tauRef))
        {
            throw new ArgumentOutOfRangeException(nameof(tauRef), tauRef, "τ_ref must be a finite number ≥ 0.");
        }

        if (!(minVoltage <= 0) || double.IsInfinity(minVoltage))
        {
            throw new ArgumentOutOfRangeException(nameof(minVoltage), minVoltage, "The voltage floor must be a finite number ≤ 0.");
        }

        Dt = dt;
        TauRc = tauRc;
        TauRef = tauRef;
        MinVoltage = minVoltage;
    }

    /// <summary>The time step in seconds.</summary>
    public double Dt { get; }

    /// <summary>The membrane time constant τ_rc in seconds.</summary>
    public double TauRc { get; }

    /// <summary>The refractory period τ_ref in seconds.</summary>
    public double TauRef { get; }

    /// <summary>The voltage floor.</summary>
    public double MinVoltage { get; }

    /// <summary>The kernel constants.</summary>
    public LifParameters Parameters =>
        new((float)Dt, (float)TauRc, (float)TauRef, (float)MinVoltage, (float)Expm1(-Dt / TauRc));

    /// <summary>The LIF rate curve 1 / (τ_ref + τ_rc·ln(1 + 1/(J − 1))) for J &gt; 1, else 0, in double.</summary>
    /// <param name="current">The input current.</param>
    /// <returns>The rate in Hz.</returns>
    public double Rate(double current) => current > 1 ? 1.0 / (TauRef + TauRc * Math.Log(1 + 1 / (current - 1))) : 0.0;

    /// <summary>The constant current that makes the neuron fire at <paramref name="rateHz"/>.</summary>
    /// <param name="rateHz">The rate, 0 &lt; rate &lt; 1/τ_ref.</param>
    /// <returns>J.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The rate is NaN, ≤ 0 or not below 1/τ_ref.</exception>
    public double CurrentForRate(double rateHz)
    {
        if (!(rateHz > 0) || (TauRef > 0 && rateHz >= 1 / TauRef) || double.IsInfinity(rateHz))
        {
            throw new ArgumentOutOfRangeException(nameof(rateHz), rateHz, $"A LIF rate must be > 0 and below 1/τ_ref = {1 / TauRef:G4} Hz.");
        }

        return 1.0 / -Expm1((TauRef - 1.0 / rateHz) / TauRc);
    }

    /// <summary>e^x − 1 without cancellation (Kahan's trick).</summary>
    internal static double Expm1(double x)
    {
        double u = Math.Exp(x);
        if (u == 1.0)
        {
            return x;
        }

        double um1 = u - 1.0;
        return um1 == -1.0 ? -1.0 : um1 * x / Math.Log(u);
    }
}
