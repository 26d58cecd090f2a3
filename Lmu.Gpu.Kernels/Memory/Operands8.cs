using ILGPU;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>Eight consecutive depths of one Z column (<see cref="IGemmBlock.ColumnDepths"/>).</summary>
#pragma warning disable CS1591 // eight values
public readonly record struct Operands8(float Z0, float Z1, float Z2, float Z3, float Z4, float Z5, float Z6, float Z7)
#pragma warning restore CS1591
{
    /// <summary>Eight values <paramref name="stride"/> apart from <paramref name="at"/>, read straight (no clamp).</summary>
    /// <param name="values">The array.</param>
    /// <param name="at">The first value's index.</param>
    /// <param name="stride">The distance between values (k, the channels).</param>
    /// <returns>values[at], values[at + stride], … values[at + 7·stride].</returns>
    public static Operands8 Strided(ArrayView<float> values, long at, long stride) => new(values[at], values[at + stride],
        values[at + (2 * stride)], values[at + (3 * stride)], values[at + (4 * stride)], values[at + (5 * stride)],
        values[at + (6 * stride)], values[at + (7 * stride)]);
}
