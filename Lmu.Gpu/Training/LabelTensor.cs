using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>Integer labels on the host or the device.</summary>
internal sealed class LabelTensor : IDisposable
{
    public LabelTensor(int[] host) => Host = host;

    public LabelTensor(MemoryBuffer1D<int, Stride1D.Dense> device) => Device = device;

    public int[]? Host { get; }

    public MemoryBuffer1D<int, Stride1D.Dense>? Device { get; }

    public void Dispose() => Device?.Dispose();
}
