namespace Lmu.Gpu.Kernels.Training;

/// <summary>One dropout mask of <see cref="DropoutKernels.Apply"/>: element i is kept where the Philox word of
/// (i, <paramref name="Step"/>) under <paramref name="Seed"/> is at least <paramref name="Threshold"/>, and then scaled
/// by <paramref name="Scale"/>.</summary>
/// <param name="Seed">The layer's 64-bit seed (the Philox key).</param>
/// <param name="Step">The training step: a new mask for every mini-batch, the same for its forward and backward pass.</param>
/// <param name="Threshold">⌊rate·2³²⌉: the words below it are dropped.</param>
/// <param name="Scale">1 / (1 − rate), so that the expected output equals the input.</param>
public readonly record struct DropoutParams(ulong Seed, uint Step, uint Threshold, float Scale);
