namespace Lmu.Gpu.Kernels.Memory;

/// <summary>Eight values of one row of a <see cref="Tile8x8"/>.</summary>
#pragma warning disable CS1591
public readonly record struct Row8(float V0, float V1, float V2, float V3, float V4, float V5, float V6, float V7)
{
    /// <summary>Value <paramref name="c"/> (0 … 7).</summary>
    /// <param name="c">The column.</param>
    /// <returns>The value.</returns>
    public float this[int c] => c switch { 0 => V0, 1 => V1, 2 => V2, 3 => V3, 4 => V4, 5 => V5, 6 => V6, _ => V7 };
}
#pragma warning restore CS1591
