using ILGPU;

namespace Lmu.Gpu.Kernels.Memory;

/// <summary>A load that reads as zero outside its operand, for the product kernels' blocks (padding past a matrix's
/// rows, columns or depths): the index is clamped to 0 there, so the load itself is always in range and the kernel
/// needs no branch around it.</summary>
public static class MaskedLoad
{
    /// <summary>values[at] where <paramref name="inside"/>, else zero (reading values[0]).</summary>
    /// <param name="values">The operand's storage (not empty).</param>
    /// <param name="inside">Whether the element exists.</param>
    /// <param name="at">Its index, used only where it exists.</param>
    /// <returns>The element or zero.</returns>
    public static float Read(ArrayView<float> values, bool inside, long at)
    {
        float value = values[inside ? at : 0];
        return inside ? value : 0;
    }
}
