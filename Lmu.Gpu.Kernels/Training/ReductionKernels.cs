using ILGPU;
using ILGPU.Runtime;

namespace Lmu.Gpu.Kernels.Training;

/// <summary>The sums of training: bias gradients (column sums over B·T rows, in one pass or in chunks), the squared
/// gradient norm and loss totals (strided partial sums read back by the host).</summary>
public static class ReductionKernels
{
    /// <summary>db[i] += Σ_r dY[r, i].</summary>
    /// <param name="index">i.</param>
    /// <param name="dY">[R, P].</param>
    /// <param name="db">[P], accumulated.</param>
    /// <param name="rows">R.</param>
    /// <param name="width">P.</param>
    public static void ColumnSum(Index1D index, ArrayView<float> dY, ArrayView<float> db, int rows, int width)
    {
        float s = 0;
        for (int r = 0; r < rows; r++)
        {
            s += dY[((long)r * width) + index];
        }

        db[index] += s;
    }

    /// <summary>partial[c, i] = Σ_r dY[r, i] over the rows r of chunk c (<paramref name="chunkRows"/> each, the last one
    /// shorter): the first half of a column sum spread over many threads (<see cref="ColumnSum"/> runs one thread per
    /// column over all rows, which leaves a GPU idle where rows are many and columns few).</summary>
    /// <param name="index">c·P + i.</param>
    /// <param name="dY">[R, P].</param>
    /// <param name="partial">[chunks, P].</param>
    /// <param name="rows">R.</param>
    /// <param name="width">P.</param>
    /// <param name="chunkRows">Rows per chunk.</param>
    public static void ColumnSumPartial(Index1D index, ArrayView<float> dY, ArrayView<float> partial, int rows, int width, int chunkRows)
    {
        int chunk = index / width;
        int column = index - (chunk * width);
        long first = (long)chunk * chunkRows;
        long last = Math.Min(first + chunkRows, rows);
        float s = 0;
        for (long r = first; r < last; r++)
        {
            s += dY[(r * width) + column];
        }

        partial[index] = s;
    }

    /// <summary>db[i] += Σ_c partial[c, i], in chunk order (deterministic).</summary>
    /// <param name="index">i.</param>
    /// <param name="partial">[chunks, P].</param>
    /// <param name="db">[P], accumulated.</param>
    /// <param name="chunks">The chunks.</param>
    /// <param name="width">P.</param>
    public static void ColumnSumFinish(Index1D index, ArrayView<float> partial, ArrayView<float> db, int chunks, int width)
    {
        float s = 0;
        for (int c = 0; c < chunks; c++)
        {
            s += partial[((long)c * width) + index];
        }

        db[index] += s;
    }

    /// <summary>partial[i] = Σ_{j ≡ i mod S} values[j] over <paramref name="length"/> values, S threads (a loss's sum
    /// reduced on the device to S values before it is read back).</summary>
    /// <param name="index">i.</param>
    /// <param name="values">The values.</param>
    /// <param name="partial">[S].</param>
    /// <param name="length">Number of values.</param>
    /// <param name="stride">S.</param>
    public static void StridedSum(Index1D index, ArrayView<float> values, ArrayView<float> partial, int length, int stride)
    {
        float s = 0;
        for (int j = index; j < length; j += stride)
        {
            s += values[j];
        }

        partial[index] = s;
    }

    /// <summary>partial[i] = Σ_{j ≡ i mod S} g[j]² over <paramref name="length"/> gradients, S threads.</summary>
    /// <param name="index">i.</param>
    /// <param name="grad">Gradients.</param>
    /// <param name="partial">[S].</param>
    /// <param name="length">Number of gradients.</param>
    /// <param name="stride">S.</param>
    public static void SumSquares(Index1D index, ArrayView<float> grad, ArrayView<float> partial, int length, int stride)
    {
        float s = 0;
        for (int j = index; j < length; j += stride)
        {
            float g = grad[j];
            s += g * g;
        }

        partial[index] = s;
    }
}
