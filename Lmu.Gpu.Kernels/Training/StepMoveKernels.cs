using ILGPU;

namespace Lmu.Gpu.Kernels.Training;

/// <summary>
/// Column blocks of [B, T, n] tensors moved between tensors, in time order or with each sequence's real steps
/// reversed: what a bidirectional layer needs to feed its backward layer the sequence from its end, to join the two
/// layers' outputs side by side, and to split the gradients again. Sequences are padded at the end (sequence b holds
/// L_b real steps); a reversed move keeps the padding at the end (zeros).
/// </summary>
public static class StepMoveKernels
{
    /// <summary>dst[b, t, dstOffset + j] (+)= scale·src[b, s, srcOffset + j] with s = L_b − 1 − t when reversing (0
    /// where t ≥ L_b), else s = t.</summary>
    /// <param name="index">Element of [B, T, width].</param>
    /// <param name="src">[B, T, source width].</param>
    /// <param name="dst">[B, T, destination width]; not overlapping <paramref name="src"/>.</param>
    /// <param name="lengths">[B] (read only with <see cref="StepMoveParams.UseLengths"/>).</param>
    /// <param name="p">The move.</param>
    public static void Move(Index1D index, ArrayView<float> src, ArrayView<float> dst, ArrayView<int> lengths, StepMoveParams p)
    {
        int row = index / p.Width;
        int j = index - (row * p.Width);
        int b = row / p.Steps;
        int t = row - (b * p.Steps);
        int length = p.UseLengths != 0 ? lengths[b] : p.Steps;
        int s = p.Reverse != 0 ? length - 1 - t : t;
        float value = s >= 0 ? p.Scale * src[(((long)b * p.Steps + s) * p.SourceWidth) + p.SourceOffset + j] : 0f;
        long target = (((long)b * p.Steps + t) * p.DestinationWidth) + p.DestinationOffset + j;
        dst[target] = p.Accumulate != 0 ? dst[target] + value : value;
    }
}
