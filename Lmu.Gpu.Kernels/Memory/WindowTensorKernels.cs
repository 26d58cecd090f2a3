using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// <see cref="WindowGemmKernels.WindowProduct"/> on TF32 tensor cores with float32 accuracy (3×TF32), on the stage loop
/// of the tensor-core phase C (<see cref="TensorLoop"/>): the same windows and outputs, blocks of 128 × 128 in groups of
/// 256 threads, the weights split and in fragment order (<c>TensorWeights</c> of <c>WindowProductWeights</c>). Needs
/// CUDA sm_80 or later, or the CPU simulator with 256-thread groups (the mma emulated), like
/// <see cref="ScanTensorKernels.ChunkStates"/>.
/// </summary>
public static class WindowTensorKernels
{
    /// <summary>Y = W·Z for blocks of 128 × 128 outputs (rows: the state's d entries; columns: states), one group of 256
    /// threads per block.</summary>
    /// <param name="weights">W split and in fragment order: for row block rb and stage s the 1,024 units of
    /// <see cref="TensorTile"/>'s A part at ((rb·K/16 + s)·1,024)·4 floats.</param>
    /// <param name="input">u [B, T, k].</param>
    /// <param name="output">States [rows, d] (see <see cref="WindowParams.OutputStride"/>).</param>
    /// <param name="final">Final states [n, d] (with <see cref="WindowParams.WriteFinal"/>).</param>
    /// <param name="p">Sizes: PaddedRows a multiple of 128, PaddedDepth of 16.</param>
    public static void WindowProduct(ArrayView<float> weights, ArrayView<float> input, ArrayView<float> output,
        ArrayView<float> final, WindowProductParams p)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit(Tf32Mma.Declare);
        }

        var emulated = SharedMemory.GetDynamic<float>();
        var units = weights.Cast<Float4>().AsAligned16();
        var columns = WindowColumns.Allocate();
        var w = p.Window;
        int size = ScanTensorKernels.BlockSize;
        int t = Group.IdxX;
        int lane = t & 31;
        int warp = t >> 5;
        GemmBlockOrder.Origin(Grid.IdxX, p.PaddedRows, w.States, size, out int blockM, out int m0, out long n0);
        if (t < size)
        {
            columns.Fill(p, n0, t);
        }

        Group.Barrier();
        var block = new WindowBlock(weights, input, columns.StartAt, columns.SkipOf, 16, 4, t, 0, w.Horizon, w.Channels);
        long stageBase = (long)blockM * (p.PaddedDepth / ScanTensorKernels.StageDepth) * TensorTile.WeightUnits;
        var acc = TensorLoop.Multiply(units, stageBase, block, p.PaddedDepth, emulated);

        // Tile row r is fragment row 8·(r mod 2) of m-tile r / 2; tile column c is column c mod 2 of n-tile c / 2.
        int g = lane >> 2;
        int q = lane & 3;
        int warpRows = (warp & 1) * 64;
        int warpColumns = (warp >> 1) * 32;
        int d = w.Order;
        for (int r = 0; r < 8; r++)
        {
            int m = m0 + warpRows + ((r >> 1) * 16) + ((r & 1) * 8) + g;
            if (m >= d)
            {
                continue;
            }

            var values = acc.Row(r);
            for (int c = 0; c < 8; c++)
            {
                columns.Write(output, final, d, warpColumns + ((c >> 1) * 8) + (2 * q) + (c & 1), m, values[c]);
            }
        }
    }
}
