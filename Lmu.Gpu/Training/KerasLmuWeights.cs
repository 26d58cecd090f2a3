namespace Lmu.Gpu.Training;

/// <summary>
/// The weights of one keras-lmu layer as Keras holds them (row-major float32, kernels [inputs, outputs]), for
/// <see cref="LmuModel.ImportKeras(int, KerasLmuWeights)"/>: an <c>LMU</c> / <c>LMUCell</c> whose hidden cell is a
/// <c>SimpleRNNCell</c> or a <c>Dense</c> layer (into an LMU cell layer), or an <c>LMUFeedforward</c> with a
/// <c>Dense</c> hidden cell (into a feedforward LMU layer). k is keras-lmu's <c>memory_d</c>, d its <c>order</c>.
/// </summary>
/// <remarks>
/// keras-lmu computes u = [x, h]·kernel + bias + m·recurrent_kernel, m' = Ā·m + B̄·u per memory channel with m laid
/// out [k, d], and the hidden cell on [m', x] (its kernel's first k·d rows take m', the rest x). The import transposes
/// these into this library's encoders and kernels (<see cref="LmuCellWeights"/>); keras-lmu's A and B are the same
/// matrices, discretised the same way, so only θ is carried (1 / <see cref="ThetaInverse"/> where keras-lmu trained
/// it). Get the arrays from a saved model with numpy, e.g.
/// <c>np.savez("lmu.npz", **{w.name: w.numpy() for w in layer.weights})</c>, and read them with
/// <see cref="NumpyArchive.Read(string)"/>.
/// </remarks>
public sealed record KerasLmuWeights
{
    /// <summary><c>kernel</c> [n_x, k], or [n_x + n, k] with <c>hidden_to_memory</c>; null where keras-lmu had
    /// <c>kernel_initializer=None</c> (the input is the memory input: n_x = k).</summary>
    public float[]? Kernel { get; init; }

    /// <summary><c>bias</c> [1, k] (<c>use_bias=True</c>), or null.</summary>
    public float[]? Bias { get; init; }

    /// <summary><c>recurrent_kernel</c> [k·d, k] (<c>memory_to_memory=True</c>), or null.</summary>
    public float[]? RecurrentKernel { get; init; }

    /// <summary>The hidden cell's <c>kernel</c>: [k·d, n], or [k·d + n_x, n] with <c>input_to_hidden</c>.</summary>
    public required float[] HiddenKernel { get; init; }

    /// <summary>A <c>SimpleRNNCell</c>'s <c>recurrent_kernel</c> [n, n]; null for a <c>Dense</c> hidden cell.</summary>
    public float[]? HiddenRecurrentKernel { get; init; }

    /// <summary>The hidden cell's <c>bias</c> [n], or null (<c>use_bias=False</c>).</summary>
    public float[]? HiddenBias { get; init; }

    /// <summary>keras-lmu's <c>theta_inv</c> where θ was trained (<c>trainable_theta=True</c>); null keeps the layer's
    /// θ.</summary>
    public double? ThetaInverse { get; init; }
}
