using ILGPU;

namespace Lmu.Gpu.Kernels.Training;

/// <summary>
/// Kernels for batches of sequences of different lengths, padded at the end to T steps: sequence b holds
/// <c>lengths[b]</c> (1 … T) real steps, and the steps after them are padding. The squared error counts only real
/// steps; a last-step output is taken at step <c>lengths[b]</c> − 1; and the shifts move a sequence's real steps to the
/// end of the T steps (or back), where a linear memory run from zero state to step T − 1 gives its state at its own
/// last step.
/// </summary>
public static class LengthKernels
{
    /// <summary>Squared error over real steps only: for element (b, t, o) with fromStep ≤ t &lt; lengths[b],
    /// loss = (y − target)², dY = scale·2·(y − target); otherwise both are 0.</summary>
    /// <param name="index">Element of [B, T, O].</param>
    /// <param name="y">Predictions.</param>
    /// <param name="target">Targets.</param>
    /// <param name="dY">Gradient.</param>
    /// <param name="loss">Per-element squared error.</param>
    /// <param name="lengths">[B].</param>
    /// <param name="steps">T.</param>
    /// <param name="width">O.</param>
    /// <param name="fromStep">The first step counted.</param>
    /// <param name="scale">1 / (number of counted elements).</param>
    public static void SquaredError(Index1D index, ArrayView<float> y, ArrayView<float> target, ArrayView<float> dY, ArrayView<float> loss,
        ArrayView<int> lengths, int steps, int width, int fromStep, float scale)
    {
        int row = index / width;
        int b = row / steps;
        int t = row - (b * steps);
        TrainingKernels.SquaredErrorTerm(index, y, target, dY, loss, t >= fromStep && t < lengths[b], scale);
    }

    /// <summary>dst[b, :] = src[b, lengths[b] − 1, :].</summary>
    /// <param name="index">b·n + i.</param>
    /// <param name="src">[B, T, n].</param>
    /// <param name="dst">[B, n].</param>
    /// <param name="lengths">[B].</param>
    /// <param name="steps">T.</param>
    /// <param name="width">n.</param>
    public static void SelectAt(Index1D index, ArrayView<float> src, ArrayView<float> dst, ArrayView<int> lengths, int steps, int width)
    {
        int b = index / width;
        int i = index - (b * width);
        dst[index] = src[((((long)b * steps) + lengths[b] - 1) * width) + i];
    }

    /// <summary>dst[b, lengths[b] − 1, :] = src[b, :] (the rest of dst must already be zero).</summary>
    /// <param name="index">b·n + i.</param>
    /// <param name="src">[B, n].</param>
    /// <param name="dst">[B, T, n].</param>
    /// <param name="lengths">[B].</param>
    /// <param name="steps">T.</param>
    /// <param name="width">n.</param>
    public static void ScatterAt(Index1D index, ArrayView<float> src, ArrayView<float> dst, ArrayView<int> lengths, int steps, int width)
    {
        int b = index / width;
        int i = index - (b * width);
        dst[((((long)b * steps) + lengths[b] - 1) * width) + i] = src[index];
    }

    /// <summary>Moves each sequence's real steps to the end (<paramref name="toEnd"/> ≠ 0):
    /// dst[b, t, :] = src[b, t − (T − L_b), :] for t ≥ T − L_b, else 0; or back to the start (<paramref name="toEnd"/> = 0):
    /// dst[b, t, :] = src[b, t + (T − L_b), :] for t &lt; L_b, else 0. dst and src are different buffers.</summary>
    /// <param name="index">Element of [B, T, n].</param>
    /// <param name="src">[B, T, n].</param>
    /// <param name="dst">[B, T, n].</param>
    /// <param name="lengths">[B] (L_b).</param>
    /// <param name="steps">T.</param>
    /// <param name="width">n.</param>
    /// <param name="toEnd">1: to the end; 0: back to the start.</param>
    public static void Shift(Index1D index, ArrayView<float> src, ArrayView<float> dst, ArrayView<int> lengths, int steps, int width, int toEnd)
    {
        long row = index / width;
        int b = (int)(row / steps);
        int t = (int)(row - ((long)b * steps));
        int pad = steps - lengths[b];
        int from = toEnd != 0 ? t - pad : t + pad;
        bool real = toEnd != 0 ? t >= pad : t < lengths[b];
        dst[index] = real ? src[index + ((long)(from - t) * width)] : 0f;
    }
}
