using ILGPU;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// One thread's share of a stage of the tensor-core products (<see cref="TensorLoop"/>), held in registers between the global
/// loads of the next stage and their stores to the shared tile (<see cref="TensorTile"/>): four 16-byte units of the
/// prepared weights (units t, t + 256, t + 512, t + 768 of the stage's 1,024) and eight depths of one column of Z
/// (column t mod 128, depths 8·(t / 128) …, all carry or all input since D is a multiple of 16).
/// </summary>
public struct TensorStage
{
#pragma warning disable CS1591 // four weight units and eight operand values
    public Float4 W0, W1, W2, W3;
    public Operands8 Z;
#pragma warning restore CS1591

    /// <summary>Reads the thread's share of a stage.</summary>
    /// <param name="weights">The prepared weights (16-byte units).</param>
    /// <param name="stageBase">The stage's first unit: (row block·K/16 + k0/16)·1,024.</param>
    /// <typeparam name="TBlock">The block's operand source.</typeparam>
    /// <param name="b">The block (its per-column tables and operands).</param>
    /// <param name="column">The thread's column of the block (t mod 128).</param>
    /// <param name="depth">The thread's first depth of the stage (k0 + 8·(t / 128)).</param>
    public void Load<TBlock>(ArrayView<Float4> weights, long stageBase, in TBlock b, int column, int depth)
        where TBlock : struct, IGemmBlock
    {
        long w = stageBase + b.Thread;
        W0 = weights[w];
        W1 = weights[w + 256];
        W2 = weights[w + 512];
        W3 = weights[w + 768];
        Z = b.ColumnDepths(column, depth);
    }

    /// <summary>Writes the share to the tile: the weight units where they were in the stage, the eight depths split into
    /// TF32 big and small parts as four B units (lanes 4·(column mod 8) + q, q = 0 … 3, of n-tile column / 8).</summary>
    /// <param name="emulated">The tile as a float view (the CPU emulation; on CUDA the inline PTX's tile).</param>
    /// <param name="thread">t.</param>
    /// <param name="column">The thread's column of the block.</param>
    /// <param name="half">The thread's depth half (t / 128).</param>
    public readonly void Store(ArrayView<float> emulated, int thread, int column, int half)
    {
        TensorTile.Put(emulated, thread, W0);
        TensorTile.Put(emulated, thread + 256, W1);
        TensorTile.Put(emulated, thread + 512, W2);
        TensorTile.Put(emulated, thread + 768, W3);
        int nTile = column >> 3;
        int first = TensorTile.OperandUnit(half, nTile, TensorTile.OperandLane(0, column & 7));
        PutSplit(emulated, first, Z.Z0, Z.Z4);
        PutSplit(emulated, first + 1, Z.Z1, Z.Z5);
        PutSplit(emulated, first + 2, Z.Z2, Z.Z6);
        PutSplit(emulated, first + 3, Z.Z3, Z.Z7);
    }

    /// <summary>(b0, b1) of one lane: (big(x), big(y), small(x), small(y)). Lanes 4·g … 4·g + 3 are adjacent units
    /// (lane / 8 is the same for all four).</summary>
    private static void PutSplit(ArrayView<float> emulated, int unit, float x, float y)
    {
        float bigX = TensorTile.RoundTf32(x);
        float bigY = TensorTile.RoundTf32(y);
        TensorTile.Put(emulated, unit, new Float4(bigX, bigY, TensorTile.SmallTf32(x, bigX), TensorTile.SmallTf32(y, bigY)));
    }
}
