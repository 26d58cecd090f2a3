using ILGPU;
using ILGPU.Runtime;

namespace Lmu.Gpu;

/// <summary>Device allocation helpers: a clear out-of-memory error that names the buffer, owned-buffer lists, and
/// group sizes taken from the accelerator's limits.</summary>
internal static class DeviceBuffers
{
    /// <summary>Allocates <paramref name="length"/> floats, adds the buffer to <paramref name="owned"/>, and turns
    /// a failed allocation into an <see cref="InsufficientMemoryException"/> naming the buffer and its size.</summary>
    public static MemoryBuffer1D<float, Stride1D.Dense> Allocate(Accelerator accelerator, long length, string what, List<IDisposable>? owned)
    {
        long bytes = Math.Max(1, length) * sizeof(float);
        if (accelerator.AcceleratorType != AcceleratorType.CPU && bytes > accelerator.MemorySize)
        {
            throw new InsufficientMemoryException(
                $"The {what} buffer needs {bytes / 1048576.0:F1} MiB but the device '{accelerator.Name}' has only {accelerator.MemorySize / 1048576.0:F1} MiB.");
        }

        MemoryBuffer1D<float, Stride1D.Dense> buffer;
        try
        {
            buffer = accelerator.Allocate1D<float>(Math.Max(1, length));
        }
        catch (Exception e) when (e is AcceleratorException or OutOfMemoryException)
        {
            throw new InsufficientMemoryException(
                $"Out of device memory allocating the {what} buffer ({bytes / 1048576.0:F1} MiB) on '{accelerator.Name}'.", e);
        }

        owned?.Add(buffer);
        return buffer;
    }

    /// <summary>Allocates and fills a buffer from host data.</summary>
    public static MemoryBuffer1D<float, Stride1D.Dense> Upload(Accelerator accelerator, ReadOnlySpan<float> data, List<IDisposable>? owned)
    {
        var buffer = Allocate(accelerator, data.Length, "input", owned);
        if (!data.IsEmpty)
        {
            buffer.View.AsContiguous().SubView(0, data.Length).CopyFromCPU(data);
        }

        return buffer;
    }

    /// <summary>A group size for work over <paramref name="rows"/> rows: a multiple of the warp size, at most the
    /// accelerator's maximum group size and at most 256.</summary>
    public static int GroupSizeFor(Accelerator accelerator, int rows)
    {
        int warp = Math.Max(1, accelerator.WarpSize);
        int max = Math.Max(warp, Math.Min(256, accelerator.MaxNumThreadsPerGroup) / warp * warp);
        int wanted = (rows + warp - 1) / warp * warp;
        return Math.Clamp(wanted, warp, max);
    }
}
