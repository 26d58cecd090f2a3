using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// Phase C of the chunked scan as one matrix product on TF32 tensor cores with float32 accuracy (3×TF32): the same
/// Y = W·Z as <see cref="ScanGemmKernels.ChunkStates"/>, with each operand x split into a TF32 value big = rna(x) and a
/// TF32 remainder small = rna(x − big), and W·Z ≈ W_small·Z_big + W_big·Z_small + W_big·Z_big (the dropped
/// W_small·Z_small and the remainders' rounding are about 2⁻²² of each product, float32's own rounding; one TF32 product
/// alone leaves about 2⁻¹¹).
/// </summary>
/// <remarks>
/// <para>Groups of 256 threads (8 warps) compute blocks of 128 × 128 outputs, in the band order of
/// <see cref="GemmBlockOrder"/>; warp w takes rows 64·(w mod 2) … and columns 32·(w / 2) …, i.e. 4 × 4 fragments of
/// <c>mma.sync.m16n8k8</c>, 48 mma per eight depths. Stages of 16 depths go through a 34,848-byte shared tile in fragment
/// order (<see cref="TensorTile"/>): the weights arrive prepared and split on the host (<c>TensorWeights</c>) and are
/// copied in 16-byte units; each thread splits eight depths of one Z column. The next stage's global loads are in
/// flight while the current one is multiplied, as in the FP32 kernel. A block whose rows end at step j stops at depth
/// D + j + 1 (rounded up to 16).</para>
/// <para>On CUDA the accumulators, the fragment loads and the mma are inline PTX (<see cref="Tf32Mma"/>): the
/// accumulators are PTX registers of their own, declared at the kernel's start. Elsewhere (the CPU simulator, whose
/// tests need groups of 256 threads) the same staging and epilogue run with the mma emulated from the documented
/// fragment layout, which checks everything but the inline PTX; <c>Tf32AsmTests</c> checks that by interpreting it.
/// The PTX needs sm_80 or later.</para>
/// </remarks>
public static class ScanTensorKernels
{
    /// <summary>Threads per group.</summary>
    public const int GroupThreads = 256;

    /// <summary>Rows and columns of a block.</summary>
    public const int BlockSize = 128;

    /// <summary>Depths per stage: K and D must be multiples of it.</summary>
    public const int StageDepth = 16;

    /// <summary>Dynamic shared memory of a launch in floats: the tile on the CPU simulator; on CUDA, where the inline PTX
    /// declares the tile itself, a token float (the kernel still names the dynamic view).</summary>
    /// <param name="cuda">Whether the launch is on CUDA.</param>
    /// <returns>The float count.</returns>
    public static int SharedFloats(bool cuda) => cuda ? 1 : TensorTile.Bytes / 4;

    /// <summary>Y = W·Z for blocks of 128 × 128 outputs, one group of 256 threads per block.</summary>
    /// <param name="weights">W split and in fragment order (<c>TensorWeights</c>): for row block rb and stage s the 1,024
    /// units of <see cref="TensorTile"/>'s A part at ((rb·K/16 + s)·1,024)·4 floats.</param>
    /// <param name="input">u [B, T, k].</param>
    /// <param name="starts">The state each chunk starts from, [N, d] (<see cref="ScanGemmKernels.ChunkStarts"/>), then at
    /// least 16 zeros.</param>
    /// <param name="output">[B, T, k, E].</param>
    /// <param name="p">Sizes: PaddedRows a multiple of 128; PaddedDepth and CarryDepth multiples of 16.</param>
    public static void ChunkStates(ArrayView<float> weights, ArrayView<float> input, ArrayView<float> starts,
        ArrayView<float> output, ScanGemmParams p)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit(Tf32Mma.Declare);
        }

        var emulated = SharedMemory.GetDynamic<float>();
        var units = weights.Cast<Float4>().AsAligned16();
        var startAt = SharedMemory.Allocate<long>(BlockSize);
        var inputAt = SharedMemory.Allocate<long>(BlockSize);
        var lengthOf = SharedMemory.Allocate<int>(BlockSize);
        int t = Group.IdxX;
        int warp = t >> 5;
        int lane = t & 31;
        int warpRows = (warp & 1) * 64;
        int warpColumns = (warp >> 1) * 32;
        GemmBlockOrder.Origin(Grid.IdxX, p.PaddedRows, p.Columns, BlockSize, out int blockM, out int m0, out long n0);
        if (t < BlockSize)
        {
            long col = n0 + t;
            var column = ChunkColumn.Of(col, p.Chunks, p.Channels, p.Steps, p.ChunkLength, p.LastLength, p.Columns);
            lengthOf[t] = column.Length;
            startAt[t] = Math.Min(col, p.Columns - 1) * p.Order;
            inputAt[t] = column.FirstRow;
        }

        Group.Barrier();
        var block = new GemmBlock(weights, input, starts, startAt, inputAt, lengthOf, 16, 4, t, 0, p.CarryDepth, p.Channels);
        int rows = p.ChunkLength * p.Width;
        int lastStep = (Math.Min(m0 + BlockSize, rows) - 1) / p.Width;
        int depthEnd = Math.Min(p.PaddedDepth, (p.CarryDepth + lastStep + StageDepth) & ~(StageDepth - 1));
        long stageBase = (long)blockM * (p.PaddedDepth / StageDepth) * TensorTile.WeightUnits;
        var acc = TensorLoop.Multiply(units, stageBase, block, depthEnd, emulated);

        // Tile row r is fragment row 8·(r mod 2) of m-tile r / 2; tile column c is column c mod 2 of n-tile c / 2.
        int g = lane >> 2;
        int q = lane & 3;
        for (int r = 0; r < 8; r++)
        {
            int m = m0 + warpRows + ((r >> 1) * 16) + ((r & 1) * 8) + g;
            if (m >= rows)
            {
                break;
            }

            int j = m / p.Width;
            int e = m - (j * p.Width);
            var values = acc.Row(r);
            for (int c = 0; c < 8; c++)
            {
                int n = warpColumns + ((c >> 1) * 8) + (2 * q) + (c & 1);
                if (j < lengthOf[n])
                {
                    output[(inputAt[n] + ((long)j * p.Channels)) * p.Width + e] = values[c];
                }
            }
        }
    }

    /// <summary>The 16 depths of the staged tile into the lane's accumulators: <see cref="Tf32Mma.Step"/> for each depth
    /// half on CUDA, <see cref="EmulateStep"/> elsewhere.</summary>
    /// <param name="emulated">The tile as floats (off CUDA).</param>
    /// <param name="registers">The lane's 64 accumulators (off CUDA).</param>
    /// <param name="warp">The warp of the group.</param>
    /// <param name="lane">The lane.</param>
    public static void MultiplyStage(ArrayView<float> emulated, ArrayView<float> registers, int warp, int lane)
    {
        for (int half = 0; half < 2; half++)
        {
            int a = TensorTile.LaneWeightUnit(warp, lane, half);
            int b = TensorTile.LaneOperandUnit(warp, lane, half);
            if (CudaAsm.IsSupported)
            {
                CudaAsm.Emit(Tf32Mma.Step, 16u * (uint)a, 16u * (uint)b);
            }
            else
            {
                EmulateStep(emulated, registers, a - lane, b - lane - (lane >> 3), lane);
            }
        }
    }

    /// <summary>What <see cref="Tf32Mma.Step"/> does for one lane, from the fragment layout (the path off CUDA):
    /// register (mt·4 + nt)·4 + i += Σ over the eight depths of A_small·B_big + A_big·B_small + A_big·B_big at its row and
    /// column, the products of TF32 values exact in float32.</summary>
    /// <param name="tile">The shared tile as floats.</param>
    /// <param name="registers">The lane's 64 accumulators.</param>
    /// <param name="aBase">The warp's A unit of m-tile 0, lane 0 (big).</param>
    /// <param name="bBase">The warp's B unit of n-tile 0, lane 0.</param>
    /// <param name="lane">The lane.</param>
    public static void EmulateStep(ArrayView<float> tile, ArrayView<float> registers, int aBase, int bBase, int lane)
    {
        int g = lane >> 2;
        int q = lane & 3;
        for (int mt = 0; mt < 4; mt++)
        {
            for (int nt = 0; nt < 4; nt++)
            {
                for (int i = 0; i < 4; i++)
                {
                    int row = g + (8 * (i >> 1));
                    int column = (2 * q) + (i & 1);
                    float sum = registers[(((mt * 4) + nt) * 4) + i];
                    for (int k = 0; k < 8; k++)
                    {
                        int a = (4 * (aBase + (mt * 64) + TensorTile.WeightLane(row, k))) + TensorTile.WeightComponent(row, k);
                        int bLane = TensorTile.OperandLane(k, column);
                        int b = (4 * (bBase + (nt * TensorTile.TileUnits) + bLane + (bLane >> 3))) + (k >> 2);
                        float aBig = tile[a];
                        float aSmall = tile[a + 128];
                        float bBig = tile[b];
                        float bSmall = tile[b + 2];
                        sum += aSmall * bBig;
                        sum += aBig * bSmall;
                        sum += aBig * bBig;
                    }

                    registers[(((mt * 4) + nt) * 4) + i] = sum;
                }
            }
        }
    }
}
