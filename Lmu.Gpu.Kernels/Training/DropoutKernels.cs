using ILGPU;
using Lmu.Gpu.Kernels.Spiking;

namespace Lmu.Gpu.Kernels.Training;

/// <summary>Inverted dropout, y = x·keep/(1 − rate): the mask is a function of the element, the training step and the
/// seed (counter-based Philox, <see cref="PhiloxStreams.Dropout"/>), so it is never stored: the backward pass
/// recomputes the forward pass's mask, and the host, the CPU simulator and a GPU drop the same elements.</summary>
public static class DropoutKernels
{
    /// <summary>y[i] = x[i]·scale where element i is kept, else 0 (the backward pass: dx from dy, the same call).</summary>
    /// <param name="index">Element.</param>
    /// <param name="x">Input (or the output gradient).</param>
    /// <param name="y">Output (or the input gradient); may be <paramref name="x"/> itself.</param>
    /// <param name="p">The mask.</param>
    public static void Apply(Index1D index, ArrayView<float> x, ArrayView<float> y, DropoutParams p) =>
        y[index] = Keeps(p, index) ? x[index] * p.Scale : 0f;

    /// <summary>Whether element <paramref name="element"/> is kept: word (element mod 4) of the Philox block
    /// ⌊element / 4⌋ at the step is at least the threshold.</summary>
    /// <param name="p">The mask.</param>
    /// <param name="element">The flat element index.</param>
    /// <returns>True where the element is kept.</returns>
    public static bool Keeps(DropoutParams p, long element) => Words(p, element >> 2).Word((int)(element & 3)) >= p.Threshold;

    /// <summary>The four Philox words of block <paramref name="block"/> (elements 4·block … 4·block + 3) at the step.</summary>
    /// <param name="p">The mask.</param>
    /// <param name="block">The block index.</param>
    /// <returns>The words; element 4·block + j is kept where word j is at least the threshold.</returns>
    public static Philox4x32 Words(DropoutParams p, long block) => Philox4x32.ForBlock(p.Seed, block, p.Step, PhiloxStreams.Dropout);
}
