namespace Lmu.Gpu.Kernels.Memory;

/// <summary>Four consecutive floats, read as one unit: through a 16-byte-aligned view ILGPU's PTX backend loads it with a
/// single <c>ld.shared.v4.f32</c> (<see cref="ScanGemmKernels.ChunkStates"/>'s operands).</summary>
/// <param name="X">The first value.</param>
/// <param name="Y">The second value.</param>
/// <param name="Z">The third value.</param>
/// <param name="W">The fourth value.</param>
public readonly record struct Float4(float X, float Y, float Z, float W);
