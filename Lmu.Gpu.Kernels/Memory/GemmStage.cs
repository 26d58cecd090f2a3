using ILGPU;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// One thread's share of a stage of the FP32 matrix-product kernels (<see cref="GemmLoop"/>): eight elements of the W block and eight
/// of the Z block (a stage is side × 8·side of each, side² threads), held in registers between the global loads of the
/// next stage and their stores to shared memory, so that those loads run while the current stage is multiplied.
/// W element i of thread t is w = t + i·side² of the stage's contiguous run (consecutive threads, consecutive
/// floats); Z element i is w = 8·t + i (column w / side, depth w mod side): from side 8 on, eight consecutive depths
/// of one column, read with one table lookup from consecutive addresses.
/// </summary>
public struct GemmStage
{
#pragma warning disable CS1591 // sixteen staged values
    public float W0, W1, W2, W3, W4, W5, W6, W7;
    public Operands8 Z;
#pragma warning restore CS1591

    /// <summary>Reads the thread's sixteen elements of the stage at depth <paramref name="k0"/>.</summary>
    /// <typeparam name="TBlock">The block's operand source.</typeparam>
    /// <param name="b">The block being computed.</param>
    /// <param name="k0">First depth of the stage.</param>
    public void Load<TBlock>(in TBlock b, int k0)
        where TBlock : struct, IGemmBlock
    {
        int step = b.Side << b.SideLog2;
        int w = b.Thread;
        W0 = b.Weight(k0, w);
        W1 = b.Weight(k0, w + step);
        W2 = b.Weight(k0, w + (2 * step));
        W3 = b.Weight(k0, w + (3 * step));
        W4 = b.Weight(k0, w + (4 * step));
        W5 = b.Weight(k0, w + (5 * step));
        W6 = b.Weight(k0, w + (6 * step));
        W7 = b.Weight(k0, w + (7 * step));
        int first = 8 * b.Thread;
        if (b.Side < 8)
        {
            // Several columns per thread (the CPU simulator's 4 × 4 groups): element by element.
            Z = new Operands8(b.Operand(k0, first), b.Operand(k0, first + 1), b.Operand(k0, first + 2), b.Operand(k0, first + 3),
                b.Operand(k0, first + 4), b.Operand(k0, first + 5), b.Operand(k0, first + 6), b.Operand(k0, first + 7));
            return;
        }

        // One column, depths k … k + 7, all in the carry rows or all in the input rows (D is a multiple of side).
        Z = b.ColumnDepths(first >> b.SideLog2, k0 + (first & (b.Side - 1)));
    }

    /// <summary>Writes the sixteen elements to their places in shared memory.</summary>
    /// <typeparam name="TBlock">The block's operand source.</typeparam>
    /// <param name="b">The block being computed.</param>
    /// <param name="shared">The stage's shared memory.</param>
    public readonly void Store<TBlock>(in TBlock b, ArrayView<float> shared)
        where TBlock : struct, IGemmBlock
    {
        int step = b.Side << b.SideLog2;
        int g = b.Side;
        int log = b.SideLog2;
        int w = b.Thread;
        shared[GemmSlots.Weight(g, log, w)] = W0;
        shared[GemmSlots.Weight(g, log, w + step)] = W1;
        shared[GemmSlots.Weight(g, log, w + (2 * step))] = W2;
        shared[GemmSlots.Weight(g, log, w + (3 * step))] = W3;
        shared[GemmSlots.Weight(g, log, w + (4 * step))] = W4;
        shared[GemmSlots.Weight(g, log, w + (5 * step))] = W5;
        shared[GemmSlots.Weight(g, log, w + (6 * step))] = W6;
        shared[GemmSlots.Weight(g, log, w + (7 * step))] = W7;
        int first = 8 * b.Thread;
        shared[GemmSlots.Operand(g, log, first)] = Z.Z0;
        shared[GemmSlots.Operand(g, log, first + 1)] = Z.Z1;
        shared[GemmSlots.Operand(g, log, first + 2)] = Z.Z2;
        shared[GemmSlots.Operand(g, log, first + 3)] = Z.Z3;
        shared[GemmSlots.Operand(g, log, first + 4)] = Z.Z4;
        shared[GemmSlots.Operand(g, log, first + 5)] = Z.Z5;
        shared[GemmSlots.Operand(g, log, first + 6)] = Z.Z6;
        shared[GemmSlots.Operand(g, log, first + 7)] = Z.Z7;
    }
}
