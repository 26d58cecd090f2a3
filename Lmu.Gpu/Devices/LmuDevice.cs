using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Lmu.Gpu;

/// <summary>
/// Owns the compute backend everything else runs on: an ILGPU context plus accelerator for CUDA, OpenCL and the
/// CPU simulator, or nothing at all for the host path (<see cref="AcceleratorKind.Cpu"/>). Dispose it after the
/// objects created on it.
/// </summary>
public sealed class LmuDevice : IDisposable
{
    private readonly Context? _context;
    private readonly Accelerator? _accelerator;

    private LmuDevice(AcceleratorKind kind, int index, Context? context, Accelerator? accelerator, string name)
    {
        Kind = kind;
        Index = index;
        _context = context;
        _accelerator = accelerator;
        Name = name;
    }

    /// <summary>The backend actually in use (never <see cref="AcceleratorKind.Auto"/>).</summary>
    public AcceleratorKind Kind { get; }

    /// <summary>The device's index among its backend's devices (0 for the host path).</summary>
    public int Index { get; }

    /// <summary>The backend and index: what <see cref="Open(DeviceSelection)"/> takes to open this device again, and
    /// what its <see cref="DeviceSelection.ToString"/> writes (<c>cuda</c>, <c>cuda:1</c>).</summary>
    public DeviceSelection Selection => new(Kind, Index);

    /// <summary>The device name.</summary>
    public string Name { get; }

    /// <summary>True for the host path, where the work runs as vectorised C# rather than as ILGPU kernels.</summary>
    public bool IsHost => _accelerator is null;

    /// <summary>The ILGPU accelerator.</summary>
    /// <exception cref="InvalidOperationException">This is the host path, which has none.</exception>
    /// <exception cref="ObjectDisposedException">The device was disposed.</exception>
    public Accelerator Accelerator
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return _accelerator ?? throw new InvalidOperationException("The host (cpu) path has no ILGPU accelerator.");
        }
    }

    /// <summary>True once disposed.</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>Opens the first device of the given kind. <see cref="AcceleratorKind.Auto"/> picks CUDA, then
    /// OpenCL, then the host path.</summary>
    /// <param name="kind">The backend.</param>
    /// <returns>The opened device.</returns>
    /// <exception cref="InvalidOperationException">An explicitly named backend has no device here: there is no
    /// silent fallback.</exception>
    public static LmuDevice Open(AcceleratorKind kind = AcceleratorKind.Auto) => Open(kind, 0);

    /// <summary>Opens device <paramref name="index"/> of the given backend (as <see cref="ListDevices"/> and
    /// <c>lmu info</c> number them), e.g. the second GPU of a machine with several.</summary>
    /// <param name="kind">The backend.</param>
    /// <param name="index">The device's index among that backend's devices; 0 for <see cref="AcceleratorKind.Auto"/>
    /// and <see cref="AcceleratorKind.Cpu"/>.</param>
    /// <returns>The opened device.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative, is not 0 for auto or cpu,
    /// or is past the backend's last device (the message says how many there are).</exception>
    /// <exception cref="InvalidOperationException">An explicitly named backend has no device here: there is no
    /// silent fallback.</exception>
    public static LmuDevice Open(AcceleratorKind kind, int index) => OpenDevice(kind, index, nameof(index));

    /// <summary>Opens the selected device (<see cref="Open(AcceleratorKind, int)"/>).</summary>
    /// <param name="selection">The backend and device index, e.g. from
    /// <see cref="AcceleratorKindParser.ParseSelection"/>.</param>
    /// <returns>The opened device.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The index is out of range for the backend.</exception>
    /// <exception cref="InvalidOperationException">The backend has no device here.</exception>
    public static LmuDevice Open(DeviceSelection selection) => OpenDevice(selection.Kind, selection.Index, nameof(selection));

    private static LmuDevice OpenDevice(AcceleratorKind kind, int index, string indexParameter)
    {
        if (index < 0)
        {
            throw new ArgumentOutOfRangeException(indexParameter, $"The device index must be 0 or more (got {index}).");
        }

        if (index != 0 && kind is AcceleratorKind.Auto or AcceleratorKind.Cpu)
        {
            throw new ArgumentOutOfRangeException(indexParameter,
                $"{kind.ToName()}:{index}: {kind.ToName()} has a single device (index 0); name the backend to pick one of several GPUs.");
        }

        switch (kind)
        {
            case AcceleratorKind.Cpu:
                return new LmuDevice(AcceleratorKind.Cpu, 0, null, null, HostName());
            case AcceleratorKind.CpuSimulator:
            {
                var context = Context.Create(b => b.DefaultCPU().EnableAlgorithms());
                int count = context.GetCPUDevices().Count;
                if (index >= count)
                {
                    context.Dispose();
                    throw PastLastDevice(kind, index, count, indexParameter);
                }

                return Wrap(AcceleratorKind.CpuSimulator, index, context, context.CreateCPUAccelerator(index));
            }

            case AcceleratorKind.Cuda:
            case AcceleratorKind.OpenCL:
            {
                var context = CreateGpuContext(kind);
                var devices = kind == AcceleratorKind.Cuda ? context.GetCudaDevices().Count : context.GetCLDevices().Count;
                if (devices == 0)
                {
                    context.Dispose();
                    throw new InvalidOperationException(kind == AcceleratorKind.Cuda
                        ? "No CUDA device was found (no NVIDIA GPU, or no libcuda.so / libcuda.so.1 driver library)."
                        : "No usable OpenCL device was found (ILGPU needs OpenCL 2.0, or 3.0 with the generic address space).");
                }

                if (index >= devices)
                {
                    context.Dispose();
                    throw PastLastDevice(kind, index, devices, indexParameter);
                }

                try
                {
                    Accelerator acc = kind == AcceleratorKind.Cuda
                        ? context.CreateCudaAccelerator(index)
                        : context.CreateCLAccelerator(index);
                    return Wrap(kind, index, context, acc);
                }
                catch
                {
                    context.Dispose();
                    throw;
                }
            }

            case AcceleratorKind.Auto:
            {
                foreach (var candidate in new[] { AcceleratorKind.Cuda, AcceleratorKind.OpenCL })
                {
                    try
                    {
                        return Open(candidate);
                    }
                    catch (Exception e) when (e is InvalidOperationException or NotSupportedException or CapabilityNotSupportedException
                                              or DllNotFoundException or TypeInitializationException or AcceleratorException)
                    {
                        // try the next backend
                    }
                }

                return Open(AcceleratorKind.Cpu);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown accelerator kind.");
        }
    }

    /// <summary>Opens the device named by <paramref name="name"/>, or by <c>LMU_ACCELERATOR</c> when it is null
    /// or empty, or auto.</summary>
    /// <param name="name">auto, cpu, cuda, opencl, cpu-sim, each but auto and cpu optionally with <c>:index</c>
    /// (<c>cuda:1</c>), or null.</param>
    /// <returns>The opened device.</returns>
    /// <exception cref="ArgumentException">The name is unknown or its index is bad or out of range
    /// (<see cref="ArgumentOutOfRangeException"/>, which says how many devices the backend has).</exception>
    /// <exception cref="InvalidOperationException">The named backend has no device here.</exception>
    public static LmuDevice Open(string? name) => Open(AcceleratorKindParser.ResolveSelection(name));

    /// <summary>The kind <see cref="AcceleratorKind.Auto"/> would pick on this machine.</summary>
    /// <returns>Cuda, OpenCL or Cpu.</returns>
    public static AcceleratorKind AutoKind()
    {
        var devices = ListDevices();
        if (devices.Any(d => d.Kind == AcceleratorKind.Cuda))
        {
            return AcceleratorKind.Cuda;
        }

        return devices.Any(d => d.Kind == AcceleratorKind.OpenCL) ? AcceleratorKind.OpenCL : AcceleratorKind.Cpu;
    }

    /// <summary>Lists every device found: the host CPU, ILGPU's CPU simulator, and all usable CUDA and OpenCL
    /// devices.</summary>
    /// <returns>The devices, host first.</returns>
    public static IReadOnlyList<DeviceInfo> ListDevices()
    {
        var result = new List<DeviceInfo>
        {
            new(AcceleratorKind.Cpu, 0, HostName(), HostMemory, SimdLanes, HostThreads.Limit, HostThreads.Limit),
        };
        NativeLibraryResolver.EnsureInstalled();
        using var context = Context.Create(b => b.Default().EnableAlgorithms());
        foreach (var device in context)
        {
            AcceleratorKind kind = device.AcceleratorType switch
            {
                AcceleratorType.Cuda => AcceleratorKind.Cuda,
                AcceleratorType.OpenCL => AcceleratorKind.OpenCL,
                _ => AcceleratorKind.CpuSimulator,
            };
            int index = result.Count(r => r.Kind == kind);
            // The CPU simulator reports long.MaxValue; it really has the host's memory.
            long memory = kind == AcceleratorKind.CpuSimulator ? HostMemory : device.MemorySize;
            result.Add(new DeviceInfo(kind, index, device.Name, memory, device.WarpSize,
                device.MaxNumThreadsPerGroup, device.NumMultiprocessors));
        }

        return result;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (IsDisposed)
        {
            return;
        }

        IsDisposed = true;
        _accelerator?.Dispose();
        _context?.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Selection}: {Name}";

    private static long HostMemory => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    // float lanes of the widest hardware-accelerated vector: the host path's "warp".
    private static int SimdLanes => System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? 16
        : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? 8 : 4;

    private static LmuDevice Wrap(AcceleratorKind kind, int index, Context context, Accelerator accelerator) =>
        new(kind, index, context, accelerator, accelerator.Name);

    private static ArgumentOutOfRangeException PastLastDevice(AcceleratorKind kind, int index, int count, string parameter) =>
        new(parameter,
            $"{kind.ToName()}:{index} was asked for, but this machine has {count} {kind.ToName()} device{(count == 1 ? "" : "s")} " +
            $"({(count == 1 ? "index 0" : $"indices 0 to {count - 1}")}); lmu info lists them.");

    private static Context CreateGpuContext(AcceleratorKind kind)
    {
        NativeLibraryResolver.EnsureInstalled();
        return Context.Create(b =>
        {
            if (kind == AcceleratorKind.Cuda)
            {
                b.Cuda();
            }
            else
            {
                b.OpenCL();
            }

            b.EnableAlgorithms();
        });
    }

    private static string HostName()
    {
        string model = "CPU";
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
                if (line is not null)
                {
                    model = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }

        string simd = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "AVX-512"
            : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "AVX2" : "SIMD-128";
        int threads = HostThreads.Limit;
        return $"{model} ({threads} thread{(threads == 1 ? "" : "s")}, {simd}) host path";
    }
}
