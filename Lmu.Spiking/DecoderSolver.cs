using Lmu.Gpu;
using MathNet.Numerics.LinearAlgebra;

namespace Lmu.Spiking;

/// <summary>
/// Nengo's <c>LstsqL2</c> decoder solver, in double on the host: with activities A (S sample points × n neurons),
/// targets x and σ = reg·max(A), solve (AᵀA + S·σ²·I)·d = Aᵀx by Cholesky (MathNet.Numerics) when n ≤ S, or the
/// equivalent dual form d = Aᵀ·(AAᵀ + S·σ²·I)⁻¹·x when n &gt; S. The dual Gram matrix is accumulated in chunks of
/// neurons, so n may be in the millions without an S×n matrix in memory.
/// </summary>
public static class DecoderSolver
{
    private const int ChunkNeurons = 2048;

    /// <summary>Solves for the decoders of <paramref name="neurons"/> neurons whose activity at sample point p is
    /// <paramref name="activity"/>(k, p).</summary>
    /// <param name="neurons">The number of neurons n ≥ 1.</param>
    /// <param name="targets">The target value at each sample point (S ≥ 1).</param>
    /// <param name="activity">Activity (Hz) of neuron k at sample point p; must be finite and ≥ 0.</param>
    /// <param name="reg">The regularisation relative to the largest activity, &gt; 0 (Nengo: 0.1).</param>
    /// <returns>The decoders, one per neuron.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 1, no targets, or reg is not a finite number &gt; 0.</exception>
    /// <exception cref="ArgumentException">Every activity is zero (no neuron fires at any sample point).</exception>
    public static double[] LstsqL2(int neurons, double[] targets, Func<int, int, double> activity, double reg = 0.1)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(activity);
        if (neurons < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(neurons), neurons, "At least one neuron is needed.");
        }

        if (targets.Length < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(targets), "At least one sample point is needed.");
        }

        if (!(reg > 0) || double.IsInfinity(reg))
        {
            throw new ArgumentOutOfRangeException(nameof(reg), reg, "reg must be a finite number > 0.");
        }

        int s = targets.Length;
        int n = neurons;
        int chunks = (n + ChunkNeurons - 1) / ChunkNeurons;
        var gram = new double[chunks][];
        var rhs = new double[chunks][];
        var maxima = new double[chunks];
        bool primal = n <= s;
        HostThreads.For(chunks, c =>
        {
            int k0 = c * ChunkNeurons;
            int width = Math.Min(ChunkNeurons, n - k0);
            var block = new double[s * width];
            double max = 0;
            for (int p = 0; p < s; p++)
            {
                for (int k = 0; k < width; k++)
                {
                    double a = activity(k0 + k, p);
                    block[p * width + k] = a;
                    max = Math.Max(max, a);
                }
            }

            maxima[c] = max;
            if (primal)
            {
                return;
            }

            var g = new double[s * s];
            for (int p = 0; p < s; p++)
            {
                var rowP = new ReadOnlySpan<double>(block, p * width, width);
                for (int q = 0; q <= p; q++)
                {
                    g[p * s + q] = System.Numerics.Tensors.TensorPrimitives.Dot(rowP, new ReadOnlySpan<double>(block, q * width, width));
                }
            }

            gram[c] = g;
        });
        double sigma = reg * maxima.Max();
        if (!(sigma > 0))
        {
            throw new ArgumentException("No neuron is active at any sample point; the decoders are undefined.", nameof(activity));
        }

        double lambda = s * sigma * sigma;
        var x = Vector<double>.Build.DenseOfArray(targets);
        if (primal)
        {
            var a = Matrix<double>.Build.Dense(s, n, (p, k) => activity(k, p));
            var g = a.TransposeThisAndMultiply(a);
            for (int k = 0; k < n; k++)
            {
                g[k, k] += lambda;
            }

            return g.Cholesky().Solve(a.TransposeThisAndMultiply(x)).ToArray();
        }

        var total = Matrix<double>.Build.Dense(s, s);
        for (int p = 0; p < s; p++)
        {
            for (int q = 0; q <= p; q++)
            {
                double sum = 0;
                foreach (var g in gram)
                {
                    sum += g[p * s + q];
                }

                total[p, q] = sum;
                total[q, p] = sum;
            }

            total[p, p] += lambda;
        }

        var w = total.Cholesky().Solve(x).ToArray();
        var decoders = new double[n];
        HostThreads.For(chunks, c =>
        {
            int k0 = c * ChunkNeurons;
            int width = Math.Min(ChunkNeurons, n - k0);
            for (int k = k0; k < k0 + width; k++)
            {
                double sum = 0;
                for (int p = 0; p < s; p++)
                {
                    sum += activity(k, p) * w[p];
                }

                decoders[k] = sum;
            }
        });
        return decoders;
    }
}
