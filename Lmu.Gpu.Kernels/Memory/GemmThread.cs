using ILGPU;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>A thread's place in a group of side × side threads of the FP32 product kernels
/// (<see cref="ScanGemmKernels.ChunkStates"/>, <see cref="WindowGemmKernels.WindowProduct"/>), whose blocks are
/// 8·side × 8·side outputs: the thread holds rows <see cref="Row"/> + r·side and columns <see cref="Column"/> + c·side.</summary>
/// <param name="Side">Threads along each side of the group: 1, 2, 4, 8 or 16.</param>
/// <param name="SideLog2">log₂ <paramref name="Side"/>.</param>
/// <param name="Thread">The thread's index in the group.</param>
public readonly record struct GemmThread(int Side, int SideLog2, int Thread)
{
    /// <summary>Threads in the group (side²).</summary>
    public int Threads => Side << SideLog2;

    /// <summary>Rows (and columns) of a block: 8·side.</summary>
    public int BlockSize => 8 * Side;

    /// <summary>The thread's first row of the block: thread mod side.</summary>
    public int Row => Thread & (Side - 1);

    /// <summary>The thread's first column of the block: thread / side.</summary>
    public int Column => Thread >> SideLog2;

    /// <summary>The calling thread in a group of the given side.</summary>
    /// <param name="side">Threads along each side of the group.</param>
    /// <returns>Its place.</returns>
    public static GemmThread Current(int side)
    {
        // log₂ of the side (1, 2, 4, 8 or 16) by arithmetic, not by a chain of conditionals: ILGPU 1.5.3 miscompiles
        // `g >= 16 ? 4 : … : g >= 2 ? 1 : 0` (Roslyn turns the last arm into the comparison itself, and ILGPU gives the
        // merged value that comparison's bool type, so every arm becomes 1: log 1 at side 16, and the block tables were
        // indexed out of range on CUDA, while the CPU accelerator, which runs the IL, computed 4).
        int log = ((side >> 1) & 1) + (((side >> 2) & 1) * 2) + (((side >> 3) & 1) * 3) + (((side >> 4) & 1) * 4);
        return new GemmThread(side, log, Group.IdxX);
    }
}
