using Lmu.Gpu.Kernels.Memory;

namespace Lmu.Gpu;

/// <summary>
/// The weights of the tensor-core phase C (<see cref="ScanTensorKernels.ChunkStates"/>): W in the A-fragment order of
/// <see cref="TensorTile"/>, each value split into its TF32 part and TF32 remainder, so that a stage is 1,024 16-byte
/// units the kernel copies unchanged to shared memory.
/// </summary>
internal static class TensorWeights
{
    /// <summary>Rearranges W from <see cref="ChunkStateWeights"/>' block layout at side 16 (blocks of 128 rows).</summary>
    /// <param name="blocked">W[m, r] at (m / 128)·K·128 + r·128 + m mod 128.</param>
    /// <param name="paddedRows">M, a multiple of 128.</param>
    /// <param name="paddedDepth">K, a multiple of 16.</param>
    /// <returns>M·K·2 floats: for row block rb and stage s, unit WeightUnit(h, mt, part, lane) of the stage at
    /// ((rb·K/16 + s)·1,024)·4 floats holds (a0, a1, a2, a3) of that lane.</returns>
    /// <exception cref="ArgumentException">Sizes that are not multiples of the kernel's block, or a length that does not
    /// match them.</exception>
    public static float[] Pack(ReadOnlySpan<float> blocked, int paddedRows, int paddedDepth)
    {
        int size = ScanTensorKernels.BlockSize;
        int depthStep = ScanTensorKernels.StageDepth;
        if (paddedRows % size != 0 || paddedDepth % depthStep != 0 || blocked.Length != (long)paddedRows * paddedDepth)
        {
            throw new ArgumentException($"W of {blocked.Length} floats is not {paddedRows} × {paddedDepth} in blocks of {size} rows and stages of {depthStep} depths.", nameof(blocked));
        }

        var packed = new float[checked(2L * blocked.Length)];
        int stages = paddedDepth / depthStep;
        for (int rb = 0; rb < paddedRows / size; rb++)
        {
            for (int s = 0; s < stages; s++)
            {
                long stageAt = (((long)rb * stages) + s) * TensorTile.WeightUnits * 4;
                for (int half = 0; half < 2; half++)
                {
                    for (int mt = 0; mt < size / 16; mt++)
                    {
                        for (int row = 0; row < 16; row++)
                        {
                            for (int k = 0; k < 8; k++)
                            {
                                int depth = (s * depthStep) + (half * 8) + k;
                                int m = (mt * 16) + row;
                                float x = blocked[(int)((((long)rb * paddedDepth) + depth) * size) + m];
                                float big = TensorTile.RoundTf32(x);
                                int lane = TensorTile.WeightLane(row, k);
                                int component = TensorTile.WeightComponent(row, k);
                                packed[stageAt + (4 * TensorTile.WeightUnit(half, mt, 0, lane)) + component] = big;
                                packed[stageAt + (4 * TensorTile.WeightUnit(half, mt, 1, lane)) + component] = TensorTile.SmallTf32(x, big);
                            }
                        }
                    }
                }
            }
        }

        return packed;
    }
}
