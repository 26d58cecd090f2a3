using ILGPU;
using ILGPU.Algorithms;
using Lmu.Gpu.Kernels.Cell;

namespace Lmu.Gpu.Kernels.Training;

/// <summary>Sizes of the dense kernels: Y[R, O] = f(X[R, I]·Wᵀ + b).</summary>
/// <param name="Rows">R.</param>
/// <param name="In">I.</param>
/// <param name="Out">O.</param>
/// <param name="Activation">An <see cref="ActivationCode"/>.</param>
/// <param name="HasBias">1 when b is used.</param>
/// <param name="Accumulate">1 to add into the destination instead of overwriting it.</param>
public readonly record struct DenseParams(int Rows, int In, int Out, int Activation, int HasBias, int Accumulate);
