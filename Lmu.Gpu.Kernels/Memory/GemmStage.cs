using ILGPU;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// One thread's share of a stage of <see cref="ScanGemmKernels.ChunkStates"/>: eight elements of the Wᵀ block and eight
/// of the Z block (a stage is side × 8·side of each, side² threads), held in registers between the global loads of the
/// next stage and their stores to shared memory, so that those loads run while the current stage is multiplied.
/// Element i of a thread t is w = t + i·side²: of Wᵀ, depth w / (8·side) and row w mod 8·side (consecutive threads
/// read consecutive rows); of Z, column w / side and depth w mod side (consecutive threads read consecutive depths of
/// one column: a carry row, or consecutive inputs).
/// </summary>
public struct GemmStage
{
#pragma warning disable CS1591 // sixteen staged values
    public float W0, W1, W2, W3, W4, W5, W6, W7, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7;
#pragma warning restore CS1591

    /// <summary>Reads the thread's sixteen elements of the stage at depth <paramref name="k0"/>.</summary>
    /// <param name="b">The block being computed.</param>
    /// <param name="k0">First depth of the stage.</param>
    public void Load(in GemmBlock b, int k0)
    {
        int step = b.Threads;
        int w = b.Thread;
        W0 = b.Weight(k0, w); Z0 = b.Operand(k0, w); w += step;
        W1 = b.Weight(k0, w); Z1 = b.Operand(k0, w); w += step;
        W2 = b.Weight(k0, w); Z2 = b.Operand(k0, w); w += step;
        W3 = b.Weight(k0, w); Z3 = b.Operand(k0, w); w += step;
        W4 = b.Weight(k0, w); Z4 = b.Operand(k0, w); w += step;
        W5 = b.Weight(k0, w); Z5 = b.Operand(k0, w); w += step;
        W6 = b.Weight(k0, w); Z6 = b.Operand(k0, w); w += step;
        W7 = b.Weight(k0, w); Z7 = b.Operand(k0, w);
    }

    /// <summary>Writes the sixteen elements to their places in shared memory.</summary>
    /// <param name="b">The block being computed.</param>
    /// <param name="shared">The stage's shared memory.</param>
    public readonly void Store(in GemmBlock b, ArrayView<float> shared)
    {
        int step = b.Threads;
        int w = b.Thread;
        shared[b.WeightSlot(w)] = W0; shared[b.OperandSlot(w)] = Z0; w += step;
        shared[b.WeightSlot(w)] = W1; shared[b.OperandSlot(w)] = Z1; w += step;
        shared[b.WeightSlot(w)] = W2; shared[b.OperandSlot(w)] = Z2; w += step;
        shared[b.WeightSlot(w)] = W3; shared[b.OperandSlot(w)] = Z3; w += step;
        shared[b.WeightSlot(w)] = W4; shared[b.OperandSlot(w)] = Z4; w += step;
        shared[b.WeightSlot(w)] = W5; shared[b.OperandSlot(w)] = Z5; w += step;
        shared[b.WeightSlot(w)] = W6; shared[b.OperandSlot(w)] = Z6; w += step;
        shared[b.WeightSlot(w)] = W7; shared[b.OperandSlot(w)] = Z7;
    }
}
