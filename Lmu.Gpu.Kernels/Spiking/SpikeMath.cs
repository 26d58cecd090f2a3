namespace Lmu.Gpu.Kernels.Spiking;

/// <summary>
/// Scalar spiking arithmetic shared, line for line, by the GPU kernels and the host path, so that both make the
/// same float operations in the same order (and hence, on the host and in ILGPU's CPU simulator, the same spikes).
/// </summary>
public static class SpikeMath
{
    /// <summary>2^−24.</summary>
    public const float Inv24 = 1f / 16777216f;

    /// <summary>The largest Poisson mean per step drawn by inverse-CDF search; larger means use a rounded normal
    /// approximation.</summary>
    public const float PoissonSearchLimit = 32f;

    /// <summary>A uniform float in [0, 1) from the top 24 bits of a random word (exact on every device).</summary>
    /// <param name="word">The random word.</param>
    /// <returns>The uniform number.</returns>
    public static float Uniform(uint word) => (word >> 8) * Inv24;

    /// <summary>The Poisson count for a fixed mean from an integer threshold table: the number of k with
    /// <paramref name="word"/> &gt; <c>thresholds[k]</c>, where thresholds[k] = round(CDF(k)·2^32) − 1. Integer-only,
    /// so bit-identical everywhere.</summary>
    /// <param name="word">The random word.</param>
    /// <param name="t0">thresholds[0], hoisted by the caller.</param>
    /// <param name="thresholds">The full table.</param>
    /// <param name="count">The number of valid entries.</param>
    /// <returns>The spike count.</returns>
    public static uint ThresholdCount(uint word, uint t0, ILGPU.ArrayView<uint> thresholds, int count)
    {
        if (word <= t0)
        {
            return 0;
        }

        uint n = 1;
        for (int k = 1; k < count; k++)
        {
            if (word > thresholds[k])
            {
                n++;
            }
            else
            {
                break;
            }
        }

        return n;
    }

    /// <summary>A Poisson(<paramref name="lambda"/>) count by inverse-CDF search from one uniform, exact up to float
    /// rounding. The common no-spike case costs one compare: CDF(0) = e^−λ ≥ 1 − λ, so u &lt; 1 − λ gives 0 with no
    /// exponential. Means above <see cref="PoissonSearchLimit"/> use round(λ + √λ·z) with z from the same uniform.</summary>
    /// <param name="u">A uniform number in [0, 1).</param>
    /// <param name="lambda">The mean count (rate·dt); ≤ 0 or NaN gives 0.</param>
    /// <returns>The count.</returns>
    public static int PoissonCount(float u, float lambda)
    {
        if (!(lambda > 0f) || u < 1f - lambda)
        {
            return 0;
        }

        if (lambda > PoissonSearchLimit)
        {
            float z = InverseNormal(u + 0.5f * Inv24);
            float value = lambda + MathF.Sqrt(lambda) * z + 0.5f;
            return value <= 0f ? 0 : (int)value;
        }

        float p = MathF.Exp(-lambda);
        float cdf = p;
        int k = 0;
        int limit = 16 + (int)(4f * lambda);
        while (u >= cdf && k < limit)
        {
            k++;
            p *= lambda / k;
            cdf += p;
        }

        return k;
    }

    /// <summary>The standard normal quantile (Abramowitz &amp; Stegun 26.2.23, |error| &lt; 4.5e-4).</summary>
    /// <param name="p">A probability in (0, 1).</param>
    /// <returns>z with Φ(z) ≈ p.</returns>
    public static float InverseNormal(float p)
    {
        float q = p < 0.5f ? p : 1f - p;
        float t = MathF.Sqrt(-2f * MathF.Log(q));
        float z = t - (2.515517f + t * (0.802853f + t * 0.010328f)) / (1f + t * (1.432788f + t * (0.189269f + t * 0.001308f)));
        return p < 0.5f ? -z : z;
    }

    /// <summary>The rectified linear rate curve max(0, J) (Hz).</summary>
    /// <param name="current">The input current J.</param>
    /// <returns>The rate.</returns>
    public static float RectifiedLinearRate(float current) => current > 0f ? current : 0f;

    /// <summary>The LIF rate curve 1 / (τ_ref + τ_rc·ln(1 + 1/(J − 1))) for J &gt; 1, else 0 (Hz).</summary>
    /// <param name="current">The input current J.</param>
    /// <param name="tauRc">τ_rc in seconds.</param>
    /// <param name="tauRef">τ_ref in seconds.</param>
    /// <returns>The rate.</returns>
    public static float LifRate(float current, float tauRc, float tauRef) =>
        current > 1f ? 1f / (tauRef + tauRc * MathF.Log(1f + 1f / (current - 1f))) : 0f;

    /// <summary>One step of a regular (deterministic) spiking neuron over the rectified linear rate (Nengo's
    /// <c>SpikingRectifiedLinear</c>): v += max(0, J)·dt, then as many spikes as whole units in v, which v keeps the
    /// remainder of.</summary>
    /// <param name="voltage">The accumulated phase in [0, 1), updated.</param>
    /// <param name="current">The input current J (a rate in Hz).</param>
    /// <param name="dt">The step (s).</param>
    /// <returns>The spikes in this step.</returns>
    public static uint RegularStep(ref float voltage, float current, float dt)
    {
        float v = voltage + (RectifiedLinearRate(current) * dt);
        float spikes = v >= 1f ? WholePart(v) : 0f;
        voltage = v - spikes;
        return (uint)spikes;
    }

    /// <summary>⌊v⌋ for v ≥ 0 (a truncating conversion, which the kernels compile without a call).</summary>
    private static float WholePart(float v) => (int)v;

    /// <summary>One step of Nengo's LIF: exact exponential voltage integration over the non-refractory part of the
    /// step, a spike when v &gt; 1 with sub-step spike timing, refractory period τ_ref after the spike time, and the
    /// voltage floor. The full-step case is <c>v −= (J − v)·ExpM1Full</c>, the form the host's vector path uses.</summary>
    /// <remarks>The partial step's exponential and the spike time's logarithm are float <see cref="MathF"/> calls: on
    /// CUDA they become the GPU's exp2/log2 units (a few instructions), while ILGPU compiles double
    /// <see cref="Math.Exp(double)"/> and <see cref="Math.Log(double)"/> to CORDIC routines of about 50 calls each,
    /// which every warp with one spiking or refractory-ending neuron paid at each step. Their float errors (about
    /// 10⁻⁷ of the voltage, 10⁻⁹ s of spike time) are below the voltage's own float resolution.</remarks>
    /// <param name="voltage">The voltage, updated.</param>
    /// <param name="refractory">The remaining refractory time (≥ 0), updated.</param>
    /// <param name="current">The input current J (constant over the step).</param>
    /// <param name="p">The model constants.</param>
    /// <returns>1 when the neuron spiked in this step, else 0.</returns>
    public static uint LifStep(ref float voltage, ref float refractory, float current, LifParameters p)
    {
        float r = refractory - p.Dt;
        float v = voltage;
        if (r <= 0f)
        {
            v -= (current - v) * p.ExpM1Full;
        }
        else if (r < p.Dt)
        {
            float e = MathF.Exp(-(p.Dt - r) / p.TauRc) - 1f;
            v -= (current - v) * e;
        }

        if (v > 1f)
        {
            float tSpike = p.Dt + p.TauRc * MathF.Log(1f - (v - 1f) / (current - 1f));
            voltage = 0f;
            refractory = p.TauRef + tSpike;
            return 1;
        }

        voltage = v < p.MinVoltage ? p.MinVoltage : v;
        refractory = r > 0f ? r : 0f;
        return 0;
    }
}
