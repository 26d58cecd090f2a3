using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// The stage loop of the tensor-core products (<see cref="ScanTensorKernels.ChunkStates"/>,
/// <see cref="WindowTensorKernels.WindowProduct"/>): stages of 16 depths through the shared tile in fragment order
/// (<see cref="TensorTile"/>), the next stage's global loads in flight while the current one is multiplied, 48
/// <c>mma.sync.m16n8k8</c> per eight depths per warp (3×TF32). The kernel must have emitted <see cref="Tf32Mma.Declare"/>
/// first on CUDA.
/// </summary>
public static class TensorLoop
{
    /// <summary>Σ_k W[m, k]·Z[k, n] over depths 0 … <paramref name="depthEnd"/> − 1 for the thread's 8 × 8 outputs of the
    /// 128 × 128 block (rows of m-tile r / 2, fragment row 8·(r mod 2) + lane / 4; columns of n-tile c / 2, column
    /// 2·(lane mod 4) + c mod 2, within its warp's 64 × 32).</summary>
    /// <typeparam name="TBlock">The block's operand source.</typeparam>
    /// <param name="units">The prepared weights as 16-byte units (<c>TensorWeights</c>).</param>
    /// <param name="stageBase">The block's first stage unit: row block·(K/16)·1,024.</param>
    /// <param name="block">The block's operands (only <see cref="IGemmBlock.ColumnDepths"/> and
    /// <see cref="IGemmBlock.Thread"/> are read).</param>
    /// <param name="depthEnd">The depths to sum, a multiple of 16.</param>
    /// <param name="emulated">Dynamic shared memory: the tile off CUDA (<see cref="ScanTensorKernels.SharedFloats"/>).</param>
    /// <returns>The thread's accumulators.</returns>
    public static Tile8x8 Multiply<TBlock>(ArrayView<Float4> units, long stageBase, in TBlock block, int depthEnd, ArrayView<float> emulated)
        where TBlock : struct, IGemmBlock
    {
        int t = block.Thread;
        int warp = t >> 5;
        int lane = t & 31;
        int myColumn = t & (ScanTensorKernels.BlockSize - 1);
        int myHalf = t >> 7;
        int stageDepth = ScanTensorKernels.StageDepth;

        var registers = default(ArrayView<float>);
        if (!CudaAsm.IsSupported)
        {
            registers = LocalMemory.Allocate<float>(64);
            for (int i = 0; i < 64; i++)
            {
                registers[i] = 0;
            }
        }

        var stage = default(TensorStage);
        stage.Load(units, stageBase, block, myColumn, myHalf * 8);
        for (int k0 = 0; k0 < depthEnd; k0 += stageDepth)
        {
            stage.Store(emulated, t, myColumn, myHalf);
            Group.Barrier();
            stageBase += TensorTile.WeightUnits;
            if (k0 + stageDepth < depthEnd)
            {
                stage.Load(units, stageBase, block, myColumn, k0 + stageDepth + (myHalf * 8));
            }

            ScanTensorKernels.MultiplyStage(emulated, registers, warp, lane);

            Group.Barrier();
        }

        return CudaAsm.IsSupported ? Tf32Mma.Read() : Tf32Mma.FromRegisters(registers);
    }
}
