using ILGPU;
using ILGPU.Runtime;

namespace Lmu.Gpu;

/// <summary>
/// The device scan's scratch buffers, kept between runs: the chunk carries, the final states, the carry segments' ends,
/// the product phase C's chunk starts and the adjoint's carries (each up to B·k·⌈T/L⌉·d floats). A run takes a view of
/// the length it needs; a buffer grows (reallocated, the old one freed) when a run needs more than it holds, and stays
/// at that size until <see cref="Release"/> or disposal. Repeated runs of one size then allocate and free nothing:
/// a device allocation of the largest ones (≈ 100 MB each at B = 64, d = 256, T = 10⁵) is a driver call per run.
/// </summary>
internal sealed class ScanWorkspace : IDisposable
{
    private readonly Accelerator _accelerator;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>?[] _buffers = new MemoryBuffer1D<float, Stride1D.Dense>?[Enum.GetValues<ScanScratch>().Length];

    /// <summary>A workspace on <paramref name="accelerator"/>, empty until the first run.</summary>
    public ScanWorkspace(Accelerator accelerator)
    {
        _accelerator = accelerator;
    }

    /// <summary>Bytes held on the device.</summary>
    public long Bytes => _buffers.Sum(b => b is null ? 0 : b.LengthInBytes);

    /// <summary>A view of <paramref name="length"/> floats of one scratch buffer, growing it when it is shorter. The
    /// contents are whatever the last run left.</summary>
    /// <param name="slot">Which buffer.</param>
    /// <param name="length">Floats needed (at least one is allocated).</param>
    /// <param name="what">The buffer's name for an out-of-memory error.</param>
    /// <returns>The view.</returns>
    /// <exception cref="InsufficientMemoryException">The device cannot hold it.</exception>
    public ArrayView<float> Get(ScanScratch slot, long length, string what)
    {
        long needed = Math.Max(1, length);
        var buffer = _buffers[(int)slot];
        if (buffer is null || buffer.Length < needed)
        {
            buffer?.Dispose();
            _buffers[(int)slot] = null;
            buffer = DeviceBuffers.Allocate(_accelerator, needed, what, null);
            _buffers[(int)slot] = buffer;
        }

        return buffer.View.SubView(0, needed);
    }

    /// <summary>Frees every buffer; the next run allocates again.</summary>
    public void Release()
    {
        for (int i = 0; i < _buffers.Length; i++)
        {
            _buffers[i]?.Dispose();
            _buffers[i] = null;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => Release();
}
