using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// A check of the tensor-core product's inner step apart from its staging: one group of 256 threads copies a prepared
/// stage tile (<see cref="TensorTile"/>) into shared memory, runs <see cref="Tf32Mma.Step"/> for both depth halves in
/// every warp and writes every lane's 64 accumulators out. Against the 3×TF32 product of the tile's rows and columns
/// on the host, it shows whether a GPU's <c>mma.sync.m16n8k8</c> fragments and the inline PTX's registers and shared
/// tile behave as documented (<c>lmu selftest</c> on CUDA); off CUDA the step is emulated
/// (<see cref="ScanTensorKernels.EmulateStep"/>).
/// </summary>
public static class TensorFragmentKernels
{
    /// <summary>Runs one stage of the product on a given tile.</summary>
    /// <param name="tile">The tile's <see cref="TensorTile.Bytes"/> / 4 floats.</param>
    /// <param name="accumulators">[256 threads, 64]: thread t's tile value (r, c) at t·64 + 8·r + c, as
    /// <see cref="Tf32Mma.Read"/> arranges the registers.</param>
    public static void StepOnTile(ArrayView<float> tile, ArrayView<float> accumulators)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit(Tf32Mma.Declare);
        }

        var emulated = SharedMemory.GetDynamic<float>();
        int t = Group.IdxX;
        int warp = t >> 5;
        int lane = t & 31;
        for (int unit = t; unit < TensorTile.Bytes / 16; unit += ScanTensorKernels.GroupThreads)
        {
            int at = 4 * unit;
            TensorTile.Put(emulated, unit, new Float4(tile[at], tile[at + 1], tile[at + 2], tile[at + 3]));
        }

        var registers = default(ArrayView<float>);
        if (!CudaAsm.IsSupported)
        {
            registers = LocalMemory.Allocate<float>(64);
            for (int i = 0; i < 64; i++)
            {
                registers[i] = 0;
            }
        }

        Group.Barrier();
        ScanTensorKernels.MultiplyStage(emulated, registers, warp, lane);

        var acc = CudaAsm.IsSupported ? Tf32Mma.Read() : Tf32Mma.FromRegisters(registers);
        for (int r = 0; r < 8; r++)
        {
            var row = acc.Row(r);
            for (int c = 0; c < 8; c++)
            {
                accumulators[(t * 64) + (8 * r) + c] = row[c];
            }
        }
    }
}
