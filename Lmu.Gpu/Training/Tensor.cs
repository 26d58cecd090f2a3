using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>A float buffer on the host (a managed array) or on the device (an ILGPU buffer).</summary>
internal sealed class Tensor : IDisposable
{
    public Tensor(float[] host)
    {
        Host = host;
        Length = host.Length;
    }

    public Tensor(MemoryBuffer1D<float, Stride1D.Dense> device, long length)
    {
        Device = device;
        Length = length;
    }

    public float[]? Host { get; }

    public MemoryBuffer1D<float, Stride1D.Dense>? Device { get; }

    public long Length { get; }

    /// <summary>Counts the backend's writes into this tensor (host path: uploads, clears, optimiser steps), so that
    /// data derived from it (<see cref="TransposeCache"/>) knows when it is stale.</summary>
    public int Version { get; private set; }

    /// <summary>Records a write (<see cref="Version"/>).</summary>
    public void MarkWritten() => Version++;

    public Slice All => new(this, 0, Length);

    public Slice Sub(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset + length > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Slice [{offset}, {offset + length}) is outside a tensor of {Length}.");
        }

        return new Slice(this, offset, length);
    }

    public void Dispose() => Device?.Dispose();
}

/// <summary>A range of a <see cref="Tensor"/>.</summary>
internal readonly record struct Slice(Tensor Tensor, long Offset, long Length)
{
    public Span<float> Span => Tensor.Host.AsSpan(checked((int)Offset), checked((int)Length));

    public ArrayView<float> View => Length == 0
        ? Tensor.Device!.View.SubView(0, 1)
        : Tensor.Device!.View.SubView(Offset, Length);

    public Slice Sub(long offset, long length) => Tensor.Sub(Offset + offset, length);
}
