using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>
/// The shared-memory layout of one stage (16 depths) of <see cref="ScanTensorKernels.ChunkStates"/>, in the fragment
/// order of PTX's <c>mma.sync.m16n8k8</c> with TF32 operands, so that every lane reads its fragments with 16-byte loads
/// and no bank conflicts. Positions are in 16-byte units.
/// </summary>
/// <remarks>
/// <para>Fragments of <c>m16n8k8.row.col.tf32</c> (PTX ISA, "Matrix fragments for mma.m16n8k8"), lane = 4·g + q:
/// A (16 × 8, row-major) a0 = A[g, q], a1 = A[g + 8, q], a2 = A[g, q + 4], a3 = A[g + 8, q + 4]; B (8 × 8) b0 = B[q, g],
/// b1 = B[q + 4, g]; accumulator c0 = C[g, 2q], c1 = C[g, 2q + 1], c2 = C[g + 8, 2q], c3 = C[g + 8, 2q + 1].</para>
/// <para>A (the block's 128 rows of W × 16 depths): unit ((h·8 + mt)·2 + part)·32 + lane holds (a0, a1, a2, a3) of m-tile
/// mt (rows 16·mt …), depths 8·h …, part 0 the TF32 "big" values and part 1 the "small" remainders (x − big, rounded
/// to TF32). 1,024 units, prepared on the host in this order (<c>TensorWeights</c>) and copied unchanged.</para>
/// <para>B (16 depths × the block's 128 columns of Z): unit 1,024 + h·<see cref="HalfUnits"/> + nt·36 + lane +
/// lane / 8 holds (b0_big, b1_big, b0_small, b1_small) of n-tile nt (columns 8·nt …), depths 8·h …. The skipped unit
/// after every eight lanes and the half offset of 578 (2 mod 8) make the kernel's scattered stores conflict-free as
/// well as its loads.</para>
/// </remarks>
public static class TensorTile
{
    /// <summary>Units of the A part (the weights) of a stage.</summary>
    public const int WeightUnits = 1024;

    /// <summary>Units from one depth half of the B part to the next.</summary>
    public const int HalfUnits = 578;

    /// <summary>Units from one n-tile of the B part to the next (32 lanes and 4 skipped).</summary>
    public const int TileUnits = 36;

    /// <summary>Bytes of the tile: the A part, then two B halves of 16 n-tiles.</summary>
    public const int Bytes = 16 * (WeightUnits + HalfUnits + (16 * TileUnits));

    /// <summary>Where lane <paramref name="lane"/>'s A fragment of m-tile <paramref name="mTile"/> (0 … 7), depth half
    /// <paramref name="half"/> and part <paramref name="part"/> (0 big, 1 small) is.</summary>
    /// <param name="half">Depths 8·half … 8·half + 7 of the stage.</param>
    /// <param name="mTile">m-tile of the block.</param>
    /// <param name="part">0 big, 1 small.</param>
    /// <param name="lane">Lane.</param>
    /// <returns>The unit.</returns>
    public static int WeightUnit(int half, int mTile, int part, int lane) => (((((half * 8) + mTile) * 2) + part) * 32) + lane;

    /// <summary>Where lane <paramref name="lane"/>'s B fragments of n-tile <paramref name="nTile"/> (0 … 15) and depth
    /// half <paramref name="half"/> are.</summary>
    /// <param name="half">Depths 8·half … 8·half + 7 of the stage.</param>
    /// <param name="nTile">n-tile of the block.</param>
    /// <param name="lane">Lane.</param>
    /// <returns>The unit.</returns>
    public static int OperandUnit(int half, int nTile, int lane) => WeightUnits + (half * HalfUnits) + (nTile * TileUnits) + lane + (lane >> 3);

    /// <summary>The unit from which lane <paramref name="lane"/> of warp <paramref name="warp"/> loads its A fragments
    /// (m-tile 0 of the warp, big part) for depth half <paramref name="half"/>; <see cref="Tf32Mma.Step"/> adds
    /// 64 units per m-tile and 32 for the small part. Warp w multiplies rows 64·(w mod 2) … of the block.</summary>
    /// <param name="warp">Warp of the group (0 … 7).</param>
    /// <param name="lane">Lane.</param>
    /// <param name="half">Depth half of the stage.</param>
    /// <returns>The unit.</returns>
    public static int LaneWeightUnit(int warp, int lane, int half) => WeightUnit(half, (warp & 1) * 4, 0, lane);

    /// <summary>The unit from which lane <paramref name="lane"/> of warp <paramref name="warp"/> loads its B fragments
    /// (n-tile 0 of the warp) for depth half <paramref name="half"/>; <see cref="Tf32Mma.Step"/> adds
    /// <see cref="TileUnits"/> per n-tile. Warp w multiplies columns 32·(w / 2) … of the block.</summary>
    /// <param name="warp">Warp of the group (0 … 7).</param>
    /// <param name="lane">Lane.</param>
    /// <param name="half">Depth half of the stage.</param>
    /// <returns>The unit.</returns>
    public static int LaneOperandUnit(int warp, int lane, int half) => OperandUnit(half, (warp >> 1) * 4, lane);

    /// <summary>Which component of its A unit holds W[row, depth] of a 16 × 8 m-tile: a0 … a3.</summary>
    /// <param name="row">Row within the m-tile (0 … 15).</param>
    /// <param name="depth">Depth within the half (0 … 7).</param>
    /// <returns>(row / 8) + 2·(depth / 4).</returns>
    public static int WeightComponent(int row, int depth) => (row >> 3) + ((depth >> 2) << 1);

    /// <summary>Which lane holds W[row, depth] of an m-tile.</summary>
    /// <param name="row">Row within the m-tile (0 … 15).</param>
    /// <param name="depth">Depth within the half (0 … 7).</param>
    /// <returns>4·(row mod 8) + depth mod 4.</returns>
    public static int WeightLane(int row, int depth) => ((row & 7) << 2) + (depth & 3);

    /// <summary>Which lane holds Z[depth, column] of an n-tile (in component depth / 4 big, 2 + depth / 4 small).</summary>
    /// <param name="depth">Depth within the half (0 … 7).</param>
    /// <param name="column">Column within the n-tile (0 … 7).</param>
    /// <returns>4·column + depth mod 4.</returns>
    public static int OperandLane(int depth, int column) => (column << 2) + (depth & 3);

    /// <summary>x rounded to TF32 (10 mantissa bits), to nearest with ties away from zero, as <c>cvt.rna.tf32.f32</c>:
    /// the 13 low bits cleared after adding half of the last kept bit to the magnitude.</summary>
    /// <param name="x">A finite float.</param>
    /// <returns>The TF32 value, as a float.</returns>
    public static float RoundTf32(float x) => Interop.IntAsFloat((Interop.FloatAsInt(x) + 0x1000u) & 0xFFFFE000u);

    /// <summary>The small part of the 3×TF32 split: x − <see cref="RoundTf32"/>(x) (exact in float32), rounded to TF32.</summary>
    /// <param name="x">A finite float.</param>
    /// <param name="big">RoundTf32(x).</param>
    /// <returns>The rounded remainder.</returns>
    public static float SmallTf32(float x, float big) => RoundTf32(x - big);

    /// <summary>Stores one 16-byte unit of the tile: on CUDA to the inline PTX's tile (<see cref="Tf32Mma.Store"/>),
    /// elsewhere to <paramref name="emulated"/>.</summary>
    /// <param name="emulated">The tile as floats (the CPU emulation).</param>
    /// <param name="unit">The unit.</param>
    /// <param name="value">Its four floats.</param>
    public static void Put(ArrayView<float> emulated, int unit, Float4 value)
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
