using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// One thread's share of a stage of <see cref="ScanTensorKernels.ChunkStates"/>, held in registers between the global
/// loads of the next stage and their stores to the shared tile (<see cref="TensorTile"/>): four 16-byte units of the
/// prepared weights (units t, t + 256, t + 512, t + 768 of the stage's 1,024) and eight depths of one column of Z
/// (column t mod 128, depths 8·(t / 128) …, all carry or all input since D is a multiple of 16).
/// </summary>
public struct TensorStage
{
#pragma warning disable CS1591 // four weight units and eight operand values
    public Float4 W0, W1, W2, W3;
    public float Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7;
#pragma warning restore CS1591

    /// <summary>Reads the thread's share of a stage.</summary>
    /// <param name="weights">The prepared weights (16-byte units).</param>
    /// <param name="stageBase">The stage's first unit: (row block·K/16 + k0/16)·1,024.</param>
    /// <param name="b">The block (its per-column tables and operands).</param>
    /// <param name="column">The thread's column of the block (t mod 128).</param>
    /// <param name="depth">The thread's first depth of the stage (k0 + 8·(t / 128)).</param>
    public void Load(ArrayView<Float4> weights, long stageBase, in GemmBlock b, int column, int depth)
    {
        long w = stageBase + b.Thread;
        W0 = weights[w];
        W1 = weights[w + 256];
        W2 = weights[w + 512];
        W3 = weights[w + 768];
        if (depth < b.CarryDepth)
        {
            var start = b.Starts.SubView(b.StartAt[column] + depth, 8);
            Z0 = start[0];
            Z1 = start[1];
            Z2 = start[2];
            Z3 = start[3];
            Z4 = start[4];
            Z5 = start[5];
            Z6 = start[6];
            Z7 = start[7];
        }
        else if (depth - b.CarryDepth + 8 <= b.LengthOf[column])
        {
            // All eight steps inside the chunk (so inside the input): no clamp, no mask, 64-bit index math once.
            long k = b.Channels;
            long at = b.InputAt[column] + ((depth - b.CarryDepth) * k);
            Z0 = b.Input[at];
            Z1 = b.Input[at + k];
            Z2 = b.Input[at + (2 * k)];
            Z3 = b.Input[at + (3 * k)];
            Z4 = b.Input[at + (4 * k)];
            Z5 = b.Input[at + (5 * k)];
            Z6 = b.Input[at + (6 * k)];
            Z7 = b.Input[at + (7 * k)];
        }
        else
        {
            int q = depth - b.CarryDepth;
            Z0 = b.InputOperand(column, q);
            Z1 = b.InputOperand(column, q + 1);
            Z2 = b.InputOperand(column, q + 2);
            Z3 = b.InputOperand(column, q + 3);
            Z4 = b.InputOperand(column, q + 4);
            Z5 = b.InputOperand(column, q + 5);
            Z6 = b.InputOperand(column, q + 6);
            Z7 = b.InputOperand(column, q + 7);
        }
    }

    /// <summary>Writes the share to the tile: the weight units where they were in the stage, the eight depths split into
    /// TF32 big and small parts as four B units (lanes 4·(column mod 8) + q, q = 0 … 3, of n-tile column / 8).</summary>
    /// <param name="emulated">The tile as a float view (the CPU emulation; on CUDA the inline PTX's tile).</param>
    /// <param name="thread">t.</param>
    /// <param name="column">The thread's column of the block.</param>
    /// <param name="half">The thread's depth half (t / 128).</param>
    public readonly void Store(ArrayView<float> emulated, int thread, int column, int half)
    {
        Put(emulated, thread, W0);
        Put(emulated, thread + 256, W1);
        Put(emulated, thread + 512, W2);
        Put(emulated, thread + 768, W3);
        int nTile = column >> 3;
        int first = TensorTile.OperandUnit(half, nTile, TensorTile.OperandLane(0, column & 7));
        PutSplit(emulated, first, Z0, Z4);
        PutSplit(emulated, first + 1, Z1, Z5);
        PutSplit(emulated, first + 2, Z2, Z6);
        PutSplit(emulated, first + 3, Z3, Z7);
    }

    /// <summary>(b0, b1) of one lane: (big(x), big(y), small(x), small(y)). Lanes 4·g … 4·g + 3 are adjacent units
    /// (lane / 8 is the same for all four).</summary>
    private static void PutSplit(ArrayView<float> emulated, int unit, float x, float y)
    {
        float bigX = TensorTile.RoundTf32(x);
        float bigY = TensorTile.RoundTf32(y);
        Put(emulated, unit, new Float4(bigX, bigY, TensorTile.SmallTf32(x, bigX), TensorTile.SmallTf32(y, bigY)));
    }

    private static void Put(ArrayView<float> emulated, int unit, Float4 value)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit(Tf32Mma.Store, 16u * (uint)unit, value.X, value.Y, value.Z, value.W);
        }
        else
        {
            int at = 4 * unit;
            emulated[at] = value.X;
            emulated[at + 1] = value.Y;
            emulated[at + 2] = value.Z;
            emulated[at + 3] = value.W;
        }
    }
}
