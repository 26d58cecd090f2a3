using System.Buffers;

namespace Lmu.Gpu.Training;

/// <summary>
/// Scratch arrays for the host path's per-call work, from <see cref="ArrayPool{T}.Shared"/>: a streaming step
/// (<see cref="LmuModelStream"/>) of a cell or dense layer would otherwise allocate its lanes' state copies and zero
/// rows on every call, and in a serving loop those turn into gen-0 collections (a stop of the step's own size or more).
/// An array may be longer than asked; its first <c>length</c> values are zero.
/// </summary>
internal static class HostScratch
{
    /// <summary>An array of at least <paramref name="length"/> values, the first <paramref name="length"/> of them 0.</summary>
    /// <param name="length">Values needed, ≥ 0.</param>
    /// <returns>The array; give it back with <see cref="Return"/>.</returns>
    public static float[] Rent(int length)
    {
        float[] array = ArrayPool<float>.Shared.Rent(Math.Max(1, length));
        Array.Clear(array, 0, length);
        return array;
    }

    /// <summary>Gives back arrays from <see cref="Rent"/>; null entries are skipped.</summary>
    /// <param name="arrays">The arrays.</param>
    public static void Return(params ReadOnlySpan<float[]?> arrays)
    {
        foreach (var array in arrays)
        {
            if (array is not null)
            {
                ArrayPool<float>.Shared.Return(array);
            }
        }
    }
}
