using ILGPU;
using ILGPU.Runtime;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>Scalar arguments of <see cref="WindowKernels.WindowStates"/>.</summary>
/// <param name="Order">d.</param>
/// <param name="Channels">k: sequence n = b·k + ch reads rows (b·T + t)·k + ch.</param>
/// <param name="Steps">T.</param>
/// <param name="Horizon">H: the window's length, the rows of the impulse table.</param>
/// <param name="Sequences">n = B·k.</param>
/// <param name="Ends">J: the states computed per sequence.</param>
/// <param name="FirstEnd">e_0, the step of a sequence's first state.</param>
/// <param name="EndStride">The steps between consecutive states: e_j = min(e_0 + j·stride, T − 1).</param>
/// <param name="OutputStride">Rows of the output per sequence: state j of sequence n goes to row
/// n·OutputStride + OutputFirst + j.</param>
/// <param name="OutputFirst">The row offset of state 0 within a sequence's rows.</param>
/// <param name="WriteFinal">1 where a state at e = T − 1 also goes to the final states [n, d], else 0 (an int: kernel
/// arguments must be blittable).</param>
public readonly record struct WindowParams(int Order, int Channels, int Steps, int Horizon, int Sequences, int Ends, int FirstEnd,
    int EndStride, int OutputStride, int OutputFirst, int WriteFinal)
{
    /// <summary>The states to compute, n·J: state c is state c mod J of sequence c / J.</summary>
    public long States => (long)Sequences * Ends;

    /// <summary>The groups of <see cref="WindowKernels.WindowStates"/>: ⌈n·J / <see cref="WindowKernels.ColumnsPerGroup"/>⌉.</summary>
    public long Groups => (States + WindowKernels.ColumnsPerGroup - 1) / WindowKernels.ColumnsPerGroup;
}
