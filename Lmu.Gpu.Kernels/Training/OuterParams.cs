using ILGPU;
using ILGPU.Algorithms;
using Lmu.Gpu.Kernels.Cell;

namespace Lmu.Gpu.Kernels.Training;

/// <summary>Sizes of <see cref="TrainingKernels.Outer"/>: dW[P, Q] += Σ_{b,t} dY[b, t, :] ⊗ X[b, t − Shift, :].</summary>
/// <param name="Batch">B.</param>
/// <param name="Steps">T.</param>
/// <param name="P">Rows of dW (features of dY).</param>
/// <param name="Q">Columns of dW (features of X).</param>
/// <param name="Shift">0, or 1 to pair step t with X at t − 1 (zero at t = 0).</param>
public readonly record struct OuterParams(int Batch, int Steps, int P, int Q, int Shift);
