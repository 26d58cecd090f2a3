using Lmu.Gpu.Kernels.Spiking;

namespace Lmu.Spiking;

/// <summary>
/// A one-dimensional NEF ensemble of n neurons representing x ∈ [−1, 1]: encoders ±1, max rates and intercepts
/// drawn uniformly (from Philox, stream 3, keyed by the seed and the neuron's index in the ensemble array), gain and
/// bias from them as Nengo computes them, and L2-regularised least-squares decoders (<see cref="DecoderSolver"/>)
/// over evenly spaced sample points. Input current J = gain·e·x + bias.
/// </summary>
public sealed class NefEnsemble
{
    /// <summary>The default number of sample points (1-D).</summary>
    public const int DefaultSamplePoints = 256;

    private NefEnsemble(int neurons, NeuronType type, LifModel lif, double[] gain, double[] bias, double[] decoders)
    {
        Neurons = neurons;
        NeuronType = type;
        Lif = lif;
        Gain = gain;
        Bias = bias;
        Decoders = decoders;
    }

    /// <summary>The number of neurons.</summary>
    public int Neurons { get; }

    /// <summary>The neuron model.</summary>
    public NeuronType NeuronType { get; }

    /// <summary>The LIF constants (used by the LIF types).</summary>
    public LifModel Lif { get; }

    /// <summary>gain·encoder per neuron (encoders are ±1 in one dimension).</summary>
    public IReadOnlyList<double> Gain { get; }

    /// <summary>The bias current per neuron.</summary>
    public IReadOnlyList<double> Bias { get; }

    /// <summary>Decoders per neuron: x̂ = Σ d_k·a_k with a_k in Hz.</summary>
    public IReadOnlyList<double> Decoders { get; }

    /// <summary>Builds the ensemble and solves its decoders.</summary>
    /// <param name="neurons">n ≥ 1.</param>
    /// <param name="type">The neuron model.</param>
    /// <param name="lif">The LIF constants.</param>
    /// <param name="seed">The seed.</param>
    /// <param name="firstNeuron">The global index of neuron 0 (distinct ensembles get distinct parameters).</param>
    /// <param name="maxRateLow">The lowest max rate (Hz).</param>
    /// <param name="maxRateHigh">The highest max rate (Hz); for LIF types below 1/τ_ref.</param>
    /// <param name="interceptLow">The lowest intercept, &gt; −1 … ≥ −1.</param>
    /// <param name="interceptHigh">The highest intercept, &lt; 1.</param>
    /// <param name="reg">The decoder regularisation (Nengo: 0.1).</param>
    /// <param name="samplePoints">The number of sample points in [−1, 1].</param>
    /// <returns>The ensemble.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="lif"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count or range is invalid (NaN, negative or reversed rates,
    /// intercepts outside [−1, 1), rates beyond 1/τ_ref for LIF).</exception>
    public static NefEnsemble Create(int neurons, NeuronType type, LifModel lif, ulong seed, long firstNeuron = 0,
        double maxRateLow = 100, double maxRateHigh = 200, double interceptLow = -1, double interceptHigh = 0.5,
        double reg = 0.1, int samplePoints = DefaultSamplePoints)
    {
        ArgumentNullException.ThrowIfNull(lif);
        if (neurons < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(neurons), neurons, "An ensemble needs at least one neuron.");
        }

        SpikingValidation.Rate(maxRateLow, nameof(maxRateLow));
        SpikingValidation.Rate(maxRateHigh, nameof(maxRateHigh));
        if (!(maxRateLow > 0) || maxRateHigh < maxRateLow)
        {
            throw new ArgumentOutOfRangeException(nameof(maxRateHigh), maxRateHigh, "Max rates need 0 < low ≤ high.");
        }

        if (!type.IsRectifiedLinear() && lif.TauRef > 0 && maxRateHigh >= 1 / lif.TauRef)
        {
            throw new ArgumentOutOfRangeException(nameof(maxRateHigh), maxRateHigh, $"LIF max rates must be below 1/τ_ref = {1 / lif.TauRef:G4} Hz.");
        }

        if (!(interceptLow >= -1) || !(interceptHigh < 1) || interceptHigh < interceptLow)
        {
            throw new ArgumentOutOfRangeException(nameof(interceptLow), interceptLow, "Intercepts need −1 ≤ low ≤ high < 1.");
        }

        if (samplePoints < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(samplePoints), samplePoints, "At least two sample points are needed.");
        }

        var gain = new double[neurons];
        var bias = new double[neurons];
        for (int k = 0; k < neurons; k++)
        {
            var x = Philox4x32.ForBlock(seed, firstNeuron + k, 0, PhiloxStreams.EnsembleParameters);
            double encoder = (x.X0 & 1) == 0 ? 1 : -1;
            double maxRate = maxRateLow + (maxRateHigh - maxRateLow) * (x.X1 / 4294967296.0);
            double intercept = interceptLow + (interceptHigh - interceptLow) * (x.X2 / 4294967296.0);
            double g;
            double b;
            if (type.IsRectifiedLinear())
            {
                g = maxRate / (1 - intercept);
                b = -g * intercept;
            }
            else
            {
                double jMax = lif.CurrentForRate(maxRate);
                g = (1 - jMax) / (intercept - 1);
                b = 1 - g * intercept;
            }

            gain[k] = g * encoder;
            bias[k] = b;
        }

        var points = new double[samplePoints];
        for (int p = 0; p < samplePoints; p++)
        {
            points[p] = -1 + 2 * (p + 0.5) / samplePoints;
        }

        Func<double, double> rate = type.IsRectifiedLinear() ? j => Math.Max(0, j) : lif.Rate;
        var decoders = DecoderSolver.LstsqL2(neurons, points, (k, p) => rate(gain[k] * points[p] + bias[k]), reg);
        return new NefEnsemble(neurons, type, lif, gain, bias, decoders);
    }

    /// <summary>The rate (Hz) of neuron <paramref name="k"/> at x.</summary>
    /// <param name="k">The neuron.</param>
    /// <param name="x">The represented value.</param>
    /// <returns>The rate from the ensemble's rate curve.</returns>
    public double Rate(int k, double x)
    {
        double j = Gain[k] * x + Bias[k];
        return NeuronType.IsRectifiedLinear() ? Math.Max(0, j) : Lif.Rate(j);
    }
}
