namespace Lmu.Gpu.Training;

/// <summary>Maps keras-lmu's and Keras's weight arrays ([inputs, outputs], row-major) onto a layer's slice of the flat
/// parameter vector (docs/results/training-file-format.md gives each layer's order), checking every shape against the
/// layer's options first, and back.</summary>
internal static class KerasImport
{
    /// <summary>An LMU cell: e_x [k, n_x], e_h [k, n], e_m [k, k·d], b_u [k], W_x [n, n_x], W_h [n, n], W_m [n, k·d],
    /// b_h [n], θ.</summary>
    public static void Cell(LmuCellOptions o, KerasLmuWeights w, Span<float> target)
    {
        int k = o.MemoryChannels, nx = o.InputSize, n = o.Units, kd = o.MemorySize;
        int ex = 0, eh = ex + (k * nx), em = eh + (k * n), bu = em + (k * kd), wx = bu + k, wh = wx + (n * nx), wm = wh + (n * n), bh = wm + (n * kd);
        target.Clear();
        Encoders(w.Kernel, nx, k, o.HiddenToMemory ? n : 0, target.Slice(ex, k * nx), target.Slice(eh, k * n));
        Bias(w.Bias, k, o.MemoryBias, "bias", "MemoryBias", target.Slice(bu, k));
        if (w.RecurrentKernel is { } recurrent)
        {
            Require(o.MemoryToMemory, "recurrent_kernel (memory_to_memory)", "MemoryToMemory");
            Transpose(recurrent, kd, k, "recurrent_kernel", target.Slice(em, k * kd));
        }

        HiddenKernel(w.HiddenKernel, kd, nx, n, o.InputToHidden, target.Slice(wm, n * kd), target.Slice(wx, n * nx));
        if (w.HiddenRecurrentKernel is { } hidden)
        {
            Require(o.HiddenToHidden, "the hidden cell's recurrent_kernel (a SimpleRNNCell)", "HiddenToHidden");
            Transpose(hidden, n, n, "hidden recurrent_kernel", target.Slice(wh, n * n));
        }

        Bias(w.HiddenBias, n, o.HiddenBias, "hidden bias", "HiddenBias", target.Slice(bh, n));
        target[^1] = Theta(w.ThetaInverse, o.Theta, o.TrainableTheta);
    }

    /// <summary>A feedforward LMU: e_x [k, n_x], b_u [k], W_x [n, n_x], W_m [n, k·d], b_h [n], θ.</summary>
    public static void Feedforward(FeedforwardLmuOptions o, KerasLmuWeights w, Span<float> target)
    {
        int k = o.MemoryChannels, nx = o.InputSize, n = o.Units, kd = o.MemorySize;
        int ex = 0, bu = k * nx, wx = bu + k, wm = wx + (n * nx), bh = wm + (n * kd);
        if (w.RecurrentKernel is not null || w.HiddenRecurrentKernel is not null)
        {
            throw new ArgumentException(
                "A feedforward LMU has no recurrent weights: recurrent_kernel and a hidden recurrent_kernel belong to an LMU cell (keras-lmu's LMUFeedforward has neither).", "weights");
        }

        target.Clear();
        Encoders(w.Kernel, nx, k, 0, target.Slice(ex, k * nx), []);
        Bias(w.Bias, k, o.MemoryBias, "bias", "MemoryBias", target.Slice(bu, k));
        HiddenKernel(w.HiddenKernel, kd, nx, n, o.InputToHidden, target.Slice(wm, n * kd), target.Slice(wx, n * nx));
        Bias(w.HiddenBias, n, o.HiddenBias, "hidden bias", "HiddenBias", target.Slice(bh, n));
        target[^1] = Theta(w.ThetaInverse, o.Theta, o.TrainableTheta);
    }

    /// <summary>A dense layer: W [units, inputs], b [units].</summary>
    public static void Dense(int inputs, int units, KerasDenseWeights w, Span<float> target)
    {
        target.Clear();
        Transpose(w.Kernel, inputs, units, "kernel", target[..(units * inputs)]);
        if (w.Bias is { } bias)
        {
            Copy(bias, units, "bias", target[(units * inputs)..]);
        }
    }

    /// <summary>The inverse of <see cref="Cell"/>: every array of a keras-lmu LMUCell with the layer's connections
    /// (kernel with hidden rows when <see cref="LmuCellOptions.HiddenToMemory"/>, recurrent_kernel when
    /// <see cref="LmuCellOptions.MemoryToMemory"/>, a SimpleRNNCell's recurrent kernel when
    /// <see cref="LmuCellOptions.HiddenToHidden"/>, else a Dense hidden cell's, theta_inv when θ is trained).</summary>
    public static KerasLmuWeights ExportCell(LmuCellOptions o, ReadOnlySpan<float> source)
    {
        int k = o.MemoryChannels, nx = o.InputSize, n = o.Units, kd = o.MemorySize;
        int ex = 0, eh = ex + (k * nx), em = eh + (k * n), bu = em + (k * kd), wx = bu + k, wh = wx + (n * nx), wm = wh + (n * n), bh = wm + (n * kd);
        return new KerasLmuWeights
        {
            Kernel = o.HiddenToMemory
                ? [.. Transposed(source.Slice(ex, k * nx), k, nx), .. Transposed(source.Slice(eh, k * n), k, n)]
                : Transposed(source.Slice(ex, k * nx), k, nx),
            Bias = o.MemoryBias ? source.Slice(bu, k).ToArray() : null,
            RecurrentKernel = o.MemoryToMemory ? Transposed(source.Slice(em, k * kd), k, kd) : null,
            HiddenKernel = HiddenKernelOf(source.Slice(wm, n * kd), source.Slice(wx, n * nx), kd, nx, n, o.InputToHidden),
            HiddenRecurrentKernel = o.HiddenToHidden ? Transposed(source.Slice(wh, n * n), n, n) : null,
            HiddenBias = o.HiddenBias ? source.Slice(bh, n).ToArray() : null,
            ThetaInverse = o.TrainableTheta ? 1.0 / source[^1] : null,
        };
    }

    /// <summary>The inverse of <see cref="Feedforward"/>: a keras-lmu LMUFeedforward's arrays.</summary>
    public static KerasLmuWeights ExportFeedforward(FeedforwardLmuOptions o, ReadOnlySpan<float> source)
    {
        int k = o.MemoryChannels, nx = o.InputSize, n = o.Units, kd = o.MemorySize;
        int ex = 0, bu = k * nx, wx = bu + k, wm = wx + (n * nx), bh = wm + (n * kd);
        return new KerasLmuWeights
        {
            Kernel = Transposed(source.Slice(ex, k * nx), k, nx),
            Bias = o.MemoryBias ? source.Slice(bu, k).ToArray() : null,
            HiddenKernel = HiddenKernelOf(source.Slice(wm, n * kd), source.Slice(wx, n * nx), kd, nx, n, o.InputToHidden),
            HiddenBias = o.HiddenBias ? source.Slice(bh, n).ToArray() : null,
            ThetaInverse = o.TrainableTheta ? 1.0 / source[^1] : null,
        };
    }

    /// <summary>The inverse of <see cref="Dense"/>.</summary>
    public static KerasDenseWeights ExportDense(int inputs, int units, ReadOnlySpan<float> source) => new()
    {
        Kernel = Transposed(source[..(units * inputs)], units, inputs),
        Bias = source[(units * inputs)..].ToArray(),
    };

    /// <summary>W_m [n, k·d] and W_x [n, n_x] as the hidden cell's kernel [k·d (+ n_x), n].</summary>
    private static float[] HiddenKernelOf(ReadOnlySpan<float> wm, ReadOnlySpan<float> wx, int kd, int nx, int n, bool inputToHidden) =>
        inputToHidden ? [.. Transposed(wm, n, kd), .. Transposed(wx, n, nx)] : Transposed(wm, n, kd);

    /// <summary>source [rows, cols] as [cols, rows].</summary>
    private static float[] Transposed(ReadOnlySpan<float> source, int rows, int cols)
    {
        var result = new float[rows * cols];
        HostScanMath.Transpose(source, rows, cols, result);
        return result;
    }

    /// <summary>keras-lmu's kernel [n_x (+ n), k] into e_x [k, n_x] and e_h [k, n]; none: the identity (n_x = k).</summary>
    private static void Encoders(float[]? kernel, int nx, int k, int hidden, Span<float> ex, Span<float> eh)
    {
        if (kernel is null)
        {
            if (nx != k || hidden > 0)
            {
                throw new ArgumentException(
                    $"Without a kernel (kernel_initializer=None) keras-lmu feeds the input to the memory as it is: the layer needs n_x = k and no hidden-to-memory connection (n_x = {nx}, k = {k}).", "weights");
            }

            for (int c = 0; c < k; c++)
            {
                ex[(c * nx) + c] = 1;
            }

            return;
        }

        if (kernel.Length == (nx + hidden) * k || kernel.Length == nx * k)
        {
            // Without hidden rows (keras-lmu's hidden_to_memory=False) e_h stays zero: the layer computes the same.
            Transpose(kernel.AsSpan(0, nx * k), nx, k, "kernel", ex);
            if (kernel.Length > nx * k)
            {
                Transpose(kernel.AsSpan(nx * k), hidden, k, "kernel", eh);
            }

            return;
        }

        string expected = hidden > 0 ? $"[n_x, k] = [{nx}, {k}], or [n_x + n, k] = [{nx} + {hidden}, {k}] with hidden_to_memory," : $"[n_x, k] = [{nx}, {k}]";
        string hint = hidden == 0 && kernel.Length % k == 0 && kernel.Length / k > nx
            ? " It has more rows than n_x: a keras-lmu layer with hidden_to_memory needs HiddenToMemory = true."
            : string.Empty;
        throw new ArgumentException($"kernel holds {kernel.Length} values; {expected} needs {(nx + hidden) * k}.{hint}", "weights");
    }

    /// <summary>The hidden cell's kernel [k·d (+ n_x), n] into W_m [n, k·d] and W_x [n, n_x].</summary>
    private static void HiddenKernel(float[] kernel, int kd, int nx, int n, bool inputToHidden, Span<float> wm, Span<float> wx)
    {
        ArgumentNullException.ThrowIfNull(kernel, "weights.HiddenKernel");
        if (kernel.Length == kd * n)
        {
            Transpose(kernel, kd, n, "hidden kernel", wm);
            return;
        }

        if (kernel.Length == (kd + nx) * n)
        {
            Require(inputToHidden, "a hidden kernel with input rows [k·d + n_x, n] (input_to_hidden)", "InputToHidden");
            Transpose(kernel.AsSpan(0, kd * n), kd, n, "hidden kernel", wm);
            Transpose(kernel.AsSpan(kd * n), nx, n, "hidden kernel", wx);
            return;
        }

        throw new ArgumentException(
            $"The hidden kernel holds {kernel.Length} values; [k·d, n] = [{kd}, {n}] needs {kd * n}, or [k·d + n_x, n] = [{kd} + {nx}, {n}] with input_to_hidden needs {(kd + nx) * n}.", "weights");
    }

    private static void Bias(float[]? bias, int length, bool enabled, string name, string option, Span<float> target)
    {
        if (bias is null)
        {
            return;
        }

        Require(enabled, name, option);
        Copy(bias, length, name, target);
    }

    private static float Theta(double? inverse, double theta, bool trainable)
    {
        if (inverse is not double value)
        {
            return (float)theta;
        }

        Require(trainable, "theta_inv (trainable_theta)", "TrainableTheta");
        if (!(value > 0) || !double.IsFinite(1 / value))
        {
            throw new ArgumentException($"theta_inv = {value} gives no finite θ > 0.", "weights");
        }

        return (float)(1 / value);
    }

    /// <summary>target[j, i] = source[i, j] for source [rows, cols] (target [cols, rows]), every value finite.</summary>
    private static void Transpose(ReadOnlySpan<float> source, int rows, int cols, string name, Span<float> target)
    {
        if (source.Length != rows * cols)
        {
            throw new ArgumentException($"{name} holds {source.Length} values; [{rows}, {cols}] needs {rows * cols}.", "weights");
        }

        LinearMemory.ThrowIfNotFinite(source, "weights");
        HostScanMath.Transpose(source, rows, cols, target);
    }

    private static void Copy(float[] source, int length, string name, Span<float> target)
    {
        if (source.Length != length)
        {
            throw new ArgumentException($"{name} holds {source.Length} values; {length} were expected.", "weights");
        }

        LinearMemory.ThrowIfNotFinite(source, "weights");
        source.CopyTo(target);
    }

    private static void Require(bool enabled, string what, string option)
    {
        if (!enabled)
        {
            throw new ArgumentException($"The weights have {what}, but the layer's {option} is off: build the layer with {option} = true.", "weights");
        }
    }
}
