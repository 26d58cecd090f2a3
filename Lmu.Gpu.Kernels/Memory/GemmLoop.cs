using ILGPU;
using ILGPU.Runtime;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// The depth loop of the FP32 matrix-product kernels (<see cref="ScanGemmKernels.ChunkStates"/>,
/// <see cref="WindowGemmKernels.WindowProduct"/>): a block of 8·side × 8·side outputs, 8 × 8 per thread in registers,
/// accumulated over the depths in stages of side depths staged through shared memory (<see cref="GemmSlots"/>), the next
/// stage's global loads in flight while the current one is multiplied, four 16-byte shared loads per 64 multiply-adds.
/// </summary>
public static class GemmLoop
{
    /// <summary>Σ_k W[m, k]·Z[k, n] over depths 0 … <paramref name="depthEnd"/> − 1 for the thread's rows
    /// tm + r·side and columns tn + c·side of the block.</summary>
    /// <typeparam name="TBlock">The block's operand source.</typeparam>
    /// <param name="block">The block.</param>
    /// <param name="shared">Dynamic shared memory: side·(16·side + 4) floats (<see cref="ScanGemmKernels.SharedFloats"/>).</param>
    /// <param name="depthEnd">The depths to sum, a multiple of the side.</param>
    /// <param name="tm">The thread's row within the group's side.</param>
    /// <param name="tn">The thread's column within the group's side.</param>
    /// <returns>The thread's 8 × 8 outputs.</returns>
    public static Tile8x8 Multiply<TBlock>(in TBlock block, ArrayView<float> shared, int depthEnd, int tm, int tn)
        where TBlock : struct, IGemmBlock
    {
        var shared4 = shared.Cast<Float4>().AsAligned16();
        int g = block.Side;
        int size = 8 * g;
        int operands = g * size / 4;
        int operandStride = (size / 4) + 1;
        var acc = default(Tile8x8);
        var stage = default(GemmStage);
        stage.Load(block, 0);
        for (int k0 = 0; k0 < depthEnd; k0 += g)
        {
            stage.Store(block, shared);
            Group.Barrier();
            if (k0 + g < depthEnd)
            {
                stage.Load(block, k0 + g);
            }

            // Depth kk: the thread's rows at Float4 2·side·kk + tm (+ side), its columns at
            // 2·side² + (2·side + 1)·kk + tn (+ side).
            // 64-bit Float4 indices: base + constant·16 folds into the loads' immediate offsets (with 32-bit indices
            // ptxas must allow for the index wrapping before it is widened, and recomputes every address).
            long a = tm;
            long b = operands + tn;
            if (g >= 4)
            {
                // Four depths per iteration (the side is a constant at launch, so the offsets are immediates).
                for (int kk = 0; kk < g; kk += 4)
                {
                    RankOne(ref acc, shared4, a, b, g);
                    RankOne(ref acc, shared4, a + (2 * g), b + operandStride, g);
                    RankOne(ref acc, shared4, a + (4 * g), b + (2 * operandStride), g);
                    RankOne(ref acc, shared4, a + (6 * g), b + (3 * operandStride), g);
                    a += 8 * g;
                    b += 4 * operandStride;
                }
            }
            else
            {
                for (int kk = 0; kk < g; kk++)
                {
                    RankOne(ref acc, shared4, a, b, g);
                    a += 2 * g;
                    b += operandStride;
                }
            }

            Group.Barrier();
        }

        return acc;
    }

    /// <summary>One rank-1 update of the tile from one depth of the staged blocks: the thread's rows at Float4
    /// <paramref name="a"/> and <paramref name="a"/> + side, its columns at <paramref name="b"/> and
    /// <paramref name="b"/> + side.</summary>
    private static void RankOne(ref Tile8x8 acc, ArrayView<Float4> shared4, long a, long b, int side)
    {
        var a0 = shared4[a];
        var a1 = shared4[a + side];
        var b0 = shared4[b];
        var b1 = shared4[b + side];
        acc.Fma(a0.X, a0.Y, a0.Z, a0.W, a1.X, a1.Y, a1.Z, a1.W, b0.X, b0.Y, b0.Z, b0.W, b1.X, b1.Y, b1.Z, b1.W);
    }
}
