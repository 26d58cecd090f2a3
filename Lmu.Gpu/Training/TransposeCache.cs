namespace Lmu.Gpu.Training;

/// <summary>
/// The host path's transposed weight matrices, kept between calls. The register-blocked products
/// (<see cref="HostScanMath.Product"/>) read Wᵀ while the weights are stored row-major, so every dense or cell forward
/// pass transposed its weights: at the paper's psMNIST sizes 100–400 K values per call, most of a single streaming
/// step's time. An entry is kept per weights tensor and offset, and is rebuilt when the tensor's
/// <see cref="Tensor.Version"/> has moved (every write through the host backend marks it) or the shape there changed.
/// </summary>
/// <remarks>Matrices above <see cref="MaximumValues"/> (the last-step path's impulse matrix can reach 16 M values) are
/// transposed per call as before, and past <see cref="MaximumTotalValues"/> in all the cache starts afresh, so a stream
/// fed pieces of ever new lengths (a new impulse matrix each) cannot grow it without bound. Not thread-safe, as the
/// backend it belongs to.</remarks>
internal sealed class TransposeCache
{
    /// <summary>The largest matrix kept (4 M values, 16 MiB).</summary>
    public const long MaximumValues = 1L << 22;

    /// <summary>The most values kept in all (32 M, 128 MiB): past it the cache starts afresh.</summary>
    public const long MaximumTotalValues = 1L << 25;

    private readonly Dictionary<(Tensor Tensor, long Offset), Entry> _entries = [];
    private long _total;

    /// <summary>Values held now (tests).</summary>
    internal long TotalValues => _total;

    /// <summary>Whether a rows × cols matrix is kept here.</summary>
    /// <param name="rows">Rows of W.</param>
    /// <param name="cols">Columns of W.</param>
    /// <returns>True when it is small enough.</returns>
    public bool Holds(int rows, int cols) => (long)rows * cols <= MaximumValues;

    /// <summary>Wᵀ ([j·rows + i] = W[i, j]) of the rows × cols row-major matrix at <paramref name="weights"/>, made
    /// again only when the tensor was written since or the shape at that place changed (one entry per tensor and
    /// offset: an impulse matrix rebuilt for another T replaces its entry).</summary>
    /// <param name="weights">W: rows·cols values of a host tensor.</param>
    /// <param name="rows">Rows of W.</param>
    /// <param name="cols">Columns of W.</param>
    /// <returns>The transpose (do not write it).</returns>
    public float[] Get(Slice weights, int rows, int cols)
    {
        var key = (weights.Tensor, weights.Offset);
        int length = rows * cols;
        if (_entries.TryGetValue(key, out var entry) && entry.Version == weights.Tensor.Version && entry.Rows == rows && entry.Cols == cols)
        {
            return entry.Transposed;
        }

        float[] transposed;
        if (entry is not null && entry.Transposed.Length == length)
        {
            transposed = entry.Transposed;
        }
        else
        {
            if (entry is not null)
            {
                _entries.Remove(key);
                _total -= entry.Transposed.Length;
            }

            if (_total + length > MaximumTotalValues)
            {
                Clear();
            }

            transposed = new float[length];
            _total += length;
        }

        HostScanMath.Transpose(weights.Tensor.Host.AsSpan(checked((int)weights.Offset), length), rows, cols, transposed);
        _entries[key] = new Entry(weights.Tensor.Version, rows, cols, transposed);
        return transposed;
    }

    /// <summary>Forgets every entry (the backend's tensors are being disposed, or the cache is full).</summary>
    public void Clear()
    {
        _entries.Clear();
        _total = 0;
    }

    private sealed record Entry(int Version, int Rows, int Cols, float[] Transposed);
}
