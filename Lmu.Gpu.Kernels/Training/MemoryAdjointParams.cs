using ILGPU;
using ILGPU.Algorithms;
using Lmu.Gpu.Kernels.Cell;

namespace Lmu.Gpu.Kernels.Training;

/// <summary>Sizes of <see cref="TrainingKernels.MemoryAdjoint"/>.</summary>
/// <param name="Order">d.</param>
/// <param name="Channels">k.</param>
/// <param name="Steps">T.</param>
/// <param name="Flags"><see cref="CellFlags.ThetaGradient"/> and <see cref="CellFlags.Euler"/>.</param>
/// <param name="ThetaScale">−dt/θ².</param>
public readonly record struct MemoryAdjointParams(int Order, int Channels, int Steps, int Flags, float ThetaScale);
