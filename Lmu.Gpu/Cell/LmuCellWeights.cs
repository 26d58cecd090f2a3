namespace Lmu.Gpu;

/// <summary>
/// The weights of one nonlinear LMU cell, row-major float32 arrays: e_x [k, n_x], e_h [k, n], e_m [k, k·d],
/// b_u [k], W_x [n, n_x], W_h [n, n], W_m [n, k·d], b_h [n], and θ. Disabled connections stay zero.
/// </summary>
public sealed class LmuCellWeights
{
    /// <summary>Creates zero weights (θ from the options).</summary>
    /// <param name="options">The cell shape.</param>
    /// <exception cref="ArgumentOutOfRangeException">The options are invalid.</exception>
    public LmuCellWeights(LmuCellOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        int k = options.MemoryChannels;
        int n = options.Units;
        int nx = options.InputSize;
        int kd = options.MemorySize;
        InputEncoders = new float[k * nx];
        HiddenEncoders = new float[k * n];
        MemoryEncoders = new float[k * kd];
        MemoryBias = new float[k];
        InputKernel = new float[n * nx];
        HiddenKernel = new float[n * n];
        MemoryKernel = new float[n * kd];
        HiddenBias = new float[n];
        Theta = options.Theta;
    }

    /// <summary>The cell shape.</summary>
    public LmuCellOptions Options { get; }

    /// <summary>e_x [k, n_x].</summary>
    public float[] InputEncoders { get; }

    /// <summary>e_h [k, n].</summary>
    public float[] HiddenEncoders { get; }

    /// <summary>e_m [k, k·d].</summary>
    public float[] MemoryEncoders { get; }

    /// <summary>b_u [k].</summary>
    public float[] MemoryBias { get; }

    /// <summary>W_x [n, n_x].</summary>
    public float[] InputKernel { get; }

    /// <summary>W_h [n, n].</summary>
    public float[] HiddenKernel { get; }

    /// <summary>W_m [n, k·d].</summary>
    public float[] MemoryKernel { get; }

    /// <summary>b_h [n].</summary>
    public float[] HiddenBias { get; }

    /// <summary>θ (may differ from the options' θ once trained).</summary>
    public double Theta { get; set; }

    /// <summary>Random weights as in the paper's code: e_x, e_h LeCun-uniform; e_m zero; W_x, W_h, W_m
    /// Glorot-normal; biases zero. Disabled connections stay zero.</summary>
    /// <param name="options">The cell shape.</param>
    /// <param name="seed">Random seed.</param>
    /// <returns>The weights.</returns>
    public static LmuCellWeights CreateRandom(LmuCellOptions options, int seed)
    {
        var w = new LmuCellWeights(options);
        var rng = new Random(seed);
        int n = options.Units;
        int nx = options.InputSize;
        int kd = options.MemorySize;
        LecunUniform(rng, w.InputEncoders, nx);
        if (options.HiddenToMemory)
        {
            LecunUniform(rng, w.HiddenEncoders, n);
        }

        if (options.InputToHidden)
        {
            GlorotNormal(rng, w.InputKernel, nx, n);
        }

        if (options.HiddenToHidden)
        {
            GlorotNormal(rng, w.HiddenKernel, n, n);
        }

        GlorotNormal(rng, w.MemoryKernel, kd, n);
        return w;
    }

    /// <summary>Copies every tensor into one flat vector in the documented order (e_x, e_h, e_m, b_u, W_x, W_h,
    /// W_m, b_h, θ).</summary>
    /// <returns>The vector.</returns>
    public float[] ToFlat()
    {
        var layout = CellLayout.For(Options);
        var flat = new float[layout.Length];
        InputEncoders.CopyTo(flat, layout.Ex);
        HiddenEncoders.CopyTo(flat, layout.Eh);
        MemoryEncoders.CopyTo(flat, layout.Em);
        MemoryBias.CopyTo(flat, layout.Bu);
        InputKernel.CopyTo(flat, layout.Wx);
        HiddenKernel.CopyTo(flat, layout.Wh);
        MemoryKernel.CopyTo(flat, layout.Wm);
        HiddenBias.CopyTo(flat, layout.Bh);
        flat[layout.Theta] = (float)Theta;
        return flat;
    }

    /// <summary>Builds weights from a flat vector (see <see cref="ToFlat"/>).</summary>
    /// <param name="options">The cell shape.</param>
    /// <param name="flat">The vector.</param>
    /// <returns>The weights.</returns>
    /// <exception cref="ArgumentException">Wrong length.</exception>
    public static LmuCellWeights FromFlat(LmuCellOptions options, ReadOnlySpan<float> flat)
    {
        var w = new LmuCellWeights(options);
        var layout = CellLayout.For(options);
        if (flat.Length != layout.Length)
        {
            throw new ArgumentException($"The flat weights have {flat.Length} values; this cell needs {layout.Length}.", nameof(flat));
        }

        flat.Slice(layout.Ex, w.InputEncoders.Length).CopyTo(w.InputEncoders);
        flat.Slice(layout.Eh, w.HiddenEncoders.Length).CopyTo(w.HiddenEncoders);
        flat.Slice(layout.Em, w.MemoryEncoders.Length).CopyTo(w.MemoryEncoders);
        flat.Slice(layout.Bu, w.MemoryBias.Length).CopyTo(w.MemoryBias);
        flat.Slice(layout.Wx, w.InputKernel.Length).CopyTo(w.InputKernel);
        flat.Slice(layout.Wh, w.HiddenKernel.Length).CopyTo(w.HiddenKernel);
        flat.Slice(layout.Wm, w.MemoryKernel.Length).CopyTo(w.MemoryKernel);
        flat.Slice(layout.Bh, w.HiddenBias.Length).CopyTo(w.HiddenBias);
        w.Theta = flat[layout.Theta];
        return w;
    }

    internal static void LecunUniform(Random rng, Span<float> values, int fanIn)
    {
        double limit = Math.Sqrt(3.0 / Math.Max(1, fanIn));
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(((2 * rng.NextDouble()) - 1) * limit);
        }
    }

    internal static void GlorotNormal(Random rng, Span<float> values, int fanIn, int fanOut)
    {
        double std = Math.Sqrt(2.0 / (fanIn + fanOut));
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(Gaussian(rng) * std);
        }
    }

    internal static void GlorotUniform(Random rng, Span<float> values, int fanIn, int fanOut)
    {
        double limit = Math.Sqrt(6.0 / (fanIn + fanOut));
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(((2 * rng.NextDouble()) - 1) * limit);
        }
    }

    internal static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble();
        double u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
