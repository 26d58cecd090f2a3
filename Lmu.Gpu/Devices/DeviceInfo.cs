namespace Lmu.Gpu;

/// <summary>One compute device found on this machine.</summary>
/// <param name="Kind">Its backend.</param>
/// <param name="Index">Its index among devices of that backend.</param>
/// <param name="Name">The device name.</param>
/// <param name="MemoryBytes">Device memory in bytes.</param>
/// <param name="WarpSize">Threads per warp.</param>
/// <param name="MaxGroupSize">The most threads per group.</param>
/// <param name="Multiprocessors">Multiprocessors (SMs) or compute units.</param>
public sealed record DeviceInfo(
    AcceleratorKind Kind, int Index, string Name, long MemoryBytes, int WarpSize, int MaxGroupSize, int Multiprocessors)
{
    /// <summary>What opens this device: <see cref="LmuDevice.Open(DeviceSelection)"/> takes it, and its text
    /// (<c>cuda</c>, <c>cuda:1</c>) is the name <c>--accelerator</c> takes.</summary>
    public DeviceSelection Selection => new(Kind, Index);
}
