using ILGPU;
using ILGPU.Algorithms;
using Lmu.Gpu.Kernels.Cell;

namespace Lmu.Gpu.Kernels.Training;

/// <summary>Adam hyper-parameters for one update; <c>Correction1</c> = 1 − β₁ᵗ, <c>Correction2</c> = 1 − β₂ᵗ.</summary>
/// <param name="LearningRate">α.</param>
/// <param name="Beta1">β₁.</param>
/// <param name="Beta2">β₂.</param>
/// <param name="Epsilon">ε.</param>
/// <param name="Correction1">1 − β₁ᵗ.</param>
/// <param name="Correction2">1 − β₂ᵗ.</param>
/// <param name="GradScale">Factor applied to every gradient first (clipping by norm).</param>
public readonly record struct AdamParams(float LearningRate, float Beta1, float Beta2, float Epsilon, float Correction1, float Correction2, float GradScale);
