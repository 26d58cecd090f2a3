namespace Lmu.Gpu.Training;

/// <summary>
/// The host path's transposed weight matrices, kept between calls. The register-blocked products
/// (<see cref="HostScanMath.Product"/>) read Wᵀ while the weights are stored row-major, so every dense or cell forward
/// pass transposed its weights: at the paper's psMNIST sizes 100–400 K values per call, most of a single streaming
/// step's time. An entry is keyed by the weights' tensor, offset and shape, and is rebuilt when the tensor's
/// <see cref="Tensor.Version"/> has moved (every write through the host backend marks it).
/// </summary>
/// <remarks>Matrices above <see cref="MaximumValues"/> (the last-step path's impulse matrix can reach 16 M values) are
/// transposed per call as before, so the cache holds at most a copy of the model's weight matrices. Not thread-safe, as
/// the backend it belongs to.</remarks>
internal sealed class TransposeCache
{
    /// <summary>The largest matrix kept (4 M values, 16 MiB).</summary>
    public const long MaximumValues = 1L << 22;

    private readonly Dictionary<(Tensor Tensor, long Offset, int Rows, int Cols), Entry> _entries = [];

    /// <summary>Whether a rows × cols matrix is kept here.</summary>
    /// <param name="rows">Rows of W.</param>
    /// <param name="cols">Columns of W.</param>
    /// <returns>True when it is small enough.</returns>
    public bool Holds(int rows, int cols) => (long)rows * cols <= MaximumValues;

    /// <summary>Wᵀ ([j·rows + i] = W[i, j]) of the rows × cols row-major matrix at <paramref name="weights"/>, made
    /// again only when the tensor was written since.</summary>
    /// <param name="weights">W: rows·cols values of a host tensor.</param>
    /// <param name="rows">Rows of W.</param>
    /// <param name="cols">Columns of W.</param>
    /// <returns>The transpose (do not write it).</returns>
    public float[] Get(Slice weights, int rows, int cols)
    {
        var key = (weights.Tensor, weights.Offset, rows, cols);
        if (_entries.TryGetValue(key, out var entry) && entry.Version == weights.Tensor.Version)
        {
            return entry.Transposed;
        }

        float[] transposed = entry?.Transposed ?? new float[rows * cols];
        HostScanMath.Transpose(weights.Tensor.Host.AsSpan(checked((int)weights.Offset), rows * cols), rows, cols, transposed);
        _entries[key] = new Entry(weights.Tensor.Version, transposed);
        return transposed;
    }

    /// <summary>Forgets every entry (the backend's tensors are being disposed).</summary>
    public void Clear() => _entries.Clear();

    private sealed record Entry(int Version, float[] Transposed);
}
