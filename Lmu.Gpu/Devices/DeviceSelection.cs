using System.Globalization;

namespace Lmu.Gpu;

/// <summary>
/// A backend and which of its devices to open: what <c>--accelerator</c> and <c>LMU_ACCELERATOR</c> name, written
/// <c>kind</c> or <c>kind:index</c> (<c>cuda:1</c> is the second CUDA GPU; <c>cuda</c> is <c>cuda:0</c>).
/// </summary>
/// <param name="Kind">The backend.</param>
/// <param name="Index">The device's index among that backend's devices, as <c>lmu info</c> and
/// <see cref="LmuDevice.ListDevices"/> number them. Only CUDA, OpenCL and the simulator can have more than one;
/// <see cref="AcceleratorKind.Auto"/> and <see cref="AcceleratorKind.Cpu"/> take 0 only.</param>
public readonly record struct DeviceSelection(AcceleratorKind Kind, int Index = 0)
{
    /// <summary>The name that parses back to this selection: the kind's name, with <c>:index</c> when the index is
    /// not 0 (so <c>cuda</c>, <c>cuda:1</c>).</summary>
    /// <returns>The name.</returns>
    public override string ToString() =>
        Index == 0 ? Kind.ToName() : Kind.ToName() + ":" + Index.ToString(CultureInfo.InvariantCulture);
}
