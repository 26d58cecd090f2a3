using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>Sums over many rows spread over the device: bias gradients (column sums over B·T rows), small weight
/// gradients (<see cref="TrainingKernels.OuterChunked"/>'s chunks), loss totals and the squared gradient norm, each in
/// two deterministic passes instead of one thread per column, atomics, or a read-back of every element.</summary>
internal sealed partial class DeviceBackend
{
    /// <summary>A chunk of a column sum covers at least this many rows.</summary>
    private const int MinimumChunkRows = 64;

    /// <summary>Values that a loss total or the squared gradient norm reduces to on the device before they are read
    /// back.</summary>
    private const int SumThreads = 4096;

    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>? _columnSumPartial;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int>? _columnSumFinish;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int>? _stridedSum;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int>? _sumSquares;
    private Tensor? _reductionPartials;

    /// <summary>How many chunks of rows a column sum over <paramref name="rows"/> × <paramref name="width"/> is split
    /// into: enough (chunk, column) threads to fill the device once, each chunk at least
    /// <see cref="MinimumChunkRows"/> rows.</summary>
    /// <param name="rows">R.</param>
    /// <param name="width">P, the columns.</param>
    /// <param name="capacity">Threads the device holds at once.</param>
    /// <returns>The number of chunks (1: one thread per column).</returns>
    internal static int ColumnSumChunks(int rows, int width, long capacity) =>
        (int)Math.Clamp(capacity / Math.Max(1, width), 1, Math.Max(1, rows / MinimumChunkRows));

    /// <summary>db[i] += Σ_r dY[r, i] in two passes where one thread per column would leave the device idle.</summary>
    /// <returns>Whether it ran (else the caller runs the one-pass kernel).</returns>
    private bool TryColumnSumInChunks(Slice dY, Slice db, int rows, int width)
    {
        int chunks = ColumnSumChunks(rows, width, (long)_acc.NumMultiprocessors * _acc.MaxNumThreadsPerMultiprocessor);
        if (chunks <= 1)
        {
            return false;
        }

        int chunkRows = (rows + chunks - 1) / chunks;
        chunks = (rows + chunkRows - 1) / chunkRows;
        var partial = ReductionScratch((long)chunks * width);
        _columnSumPartial ??= DeviceKernels.GetOrLoad(_acc, ReductionKernels.ColumnSumPartial, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(ReductionKernels.ColumnSumPartial));
        _columnSumPartial(chunks * width, dY.View, partial.View, rows, width, chunkRows);
        FinishChunks(partial, db, chunks, width);
        return true;
    }

    /// <summary>target[i] += Σ_c partial[c, i] for i &lt; <paramref name="width"/>, in chunk order.</summary>
    private void FinishChunks(Slice partial, Slice target, int chunks, int width)
    {
        _columnSumFinish ??= DeviceKernels.GetOrLoad(_acc, ReductionKernels.ColumnSumFinish, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(ReductionKernels.ColumnSumFinish));
        _columnSumFinish(width, partial.View, target.View, chunks, width);
    }

    /// <summary>Σ values (a loss total): reduced to <see cref="SumThreads"/> partial sums on the device where the values
    /// are many, then read back and added in double.</summary>
    private double Sum(Slice values)
    {
        int length = checked((int)values.Length);
        Slice read = values;
        if (length > 4 * SumThreads)
        {
            var partial = ReductionScratch(SumThreads);
            _stridedSum ??= DeviceKernels.GetOrLoad(_acc, ReductionKernels.StridedSum, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(ReductionKernels.StridedSum));
            _stridedSum(SumThreads, values.View, partial.View, length, SumThreads);
            read = partial;
        }

        return DownloadSum(read);
    }

    public override double SumSquares(Slice grad)
    {
        _sumSquares ??= DeviceKernels.GetOrLoad(_acc, ReductionKernels.SumSquares, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(ReductionKernels.SumSquares));
        int threads = (int)Math.Min(SumThreads, Math.Max(1, grad.Length));
        var partial = ReductionScratch(threads);
        _sumSquares(threads, grad.View, partial.View, (int)grad.Length, threads);
        return DownloadSum(partial);
    }

    /// <summary>Reads <paramref name="values"/> back and adds them in double.</summary>
    private double DownloadSum(Slice values)
    {
        double sum = 0;
        foreach (float v in Download(values))
        {
            sum += v;
        }

        return sum;
    }

    /// <summary>The first <paramref name="length"/> floats of the reductions' scratch buffer.</summary>
    private Slice ReductionScratch(long length) => Scratch(ref _reductionPartials, length, "reduction partial sums").Sub(0, length);
}
