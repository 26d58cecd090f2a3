using ILGPU;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// One thread's share of a stage of <see cref="ScanGemmKernels.ChunkStates"/>: eight elements of the W block and eight
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
    /// <param name="b">The block being computed.</param>
    /// <param name="k0">First depth of the stage.</param>
    public void Load(in GemmBlock b, int k0)
    {
        int step = b.Threads;
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
    /// <param name="b">The block being computed.</param>
    /// <param name="shared">The stage's shared memory.</param>
    public readonly void Store(in GemmBlock b, ArrayView<float> shared)
    {
        int step = b.Threads;
        int w = b.Thread;
        shared[b.WeightSlot(w)] = W0;
        shared[b.WeightSlot(w + step)] = W1;
        shared[b.WeightSlot(w + (2 * step))] = W2;
        shared[b.WeightSlot(w + (3 * step))] = W3;
        shared[b.WeightSlot(w + (4 * step))] = W4;
        shared[b.WeightSlot(w + (5 * step))] = W5;
        shared[b.WeightSlot(w + (6 * step))] = W6;
        shared[b.WeightSlot(w + (7 * step))] = W7;
        int first = 8 * b.Thread;
        shared[b.OperandSlot(first)] = Z.Z0;
        shared[b.OperandSlot(first + 1)] = Z.Z1;
        shared[b.OperandSlot(first + 2)] = Z.Z2;
        shared[b.OperandSlot(first + 3)] = Z.Z3;
        shared[b.OperandSlot(first + 4)] = Z.Z4;
        shared[b.OperandSlot(first + 5)] = Z.Z5;
        shared[b.OperandSlot(first + 6)] = Z.Z6;
        shared[b.OperandSlot(first + 7)] = Z.Z7;
    }
}
