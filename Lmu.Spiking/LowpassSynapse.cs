using System.Numerics.Tensors;

namespace Lmu.Spiking;

/// <summary>Nengo's <c>Lowpass(τ)</c> synapse, h(t) = e^(−t/τ)/τ, discretised exactly for piecewise-constant input:
/// y ← a·y + (1 − a)·x with a = e^(−dt/τ).</summary>
public sealed class LowpassSynapse
{
    /// <summary>Creates the synapse.</summary>
    /// <param name="tau">The time constant τ in seconds, &gt; dt.</param>
    /// <param name="dt">The time step in seconds, in (0, 1].</param>
    /// <exception cref="ArgumentOutOfRangeException">τ ≤ 0, NaN or infinite; dt out of range; or dt ≥ τ.</exception>
    public LowpassSynapse(double tau, double dt)
    {
        SpikingValidation.TimeStep(dt);
        SpikingValidation.TimeConstant(tau, dt, nameof(tau));
        Tau = tau;
        Dt = dt;
        Decay = Math.Exp(-dt / tau);
    }

    /// <summary>τ in seconds.</summary>
    public double Tau { get; }

    /// <summary>dt in seconds.</summary>
    public double Dt { get; }

    /// <summary>a = e^(−dt/τ).</summary>
    public double Decay { get; }

    /// <summary>One step on many filters at once: state ← a·state + (1 − a)·input (vectorised).</summary>
    /// <param name="state">The filter states, updated.</param>
    /// <param name="input">The inputs of this step (same length).</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public void Step(Span<float> state, ReadOnlySpan<float> input)
    {
        if (state.Length != input.Length)
        {
            throw new ArgumentException("state and input must have the same length.", nameof(input));
        }

        float a = (float)Decay;
        TensorPrimitives.Multiply(state, a, state);
        TensorPrimitives.MultiplyAdd(input, 1f - a, state, state);
    }
}
