using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Memory;

namespace Lmu.Gpu;

/// <summary>
/// The loaded launchers of <see cref="DeviceMemoryEngine"/>'s kernels, one set per accelerator (and per setting of
/// <c>$LMU_SPECIALIZE</c> and <c>$LMU_GEMM_GROUPS_PER_SM</c>), held for the accelerator's life
/// (<see cref="DeviceKernels"/>).
/// </summary>
/// <remarks>
/// ILGPU 1.5.3 caches compiled and loaded kernels through weak references only: once the engines that loaded them are
/// gone, a garbage collection drops them, and the next engine compiles them again — for the specialised scan kernels
/// that is ILGPU's compile of a few thousand PTX lines plus the driver's JIT, per kernel and specialised value. A loop
/// that makes a memory per run and allocates large arrays in between (<c>lmu capacity</c>: one per T) paid that at every
/// run. On the CPU simulator, a forced collection between two memories made the second one's first scan about 250 ms
/// slower without this set.
/// </remarks>
internal sealed class ScanKernelSet
{
    private readonly Accelerator _accelerator;
    private readonly int _groupsPerMultiprocessor;
    private readonly object _tensorLock = new();
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ScanGemmParams>? _tensorStates;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowProductParams>? _tensorWindows;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdjointProductParams, SpecializedValue<int>>? _adjointProduct;

    private ScanKernelSet(Accelerator accelerator, bool specialize, int groupsPerMultiprocessor)
    {
        _accelerator = accelerator;
        _groupsPerMultiprocessor = groupsPerMultiprocessor;
        ChunkEnds = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ScanParams>(ScanKernels.ChunkEnds);
        WindowStates = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowParams>(WindowKernels.WindowStates);
        Carries = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ScanParams>(ScanKernels.Carries);
        var bounds = GemmOccupancy.For(accelerator.AcceleratorType, DeviceMemoryEngine.GemmGroupSide(accelerator), groupsPerMultiprocessor);
        if (specialize)
        {
            var steps = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ScanParams, SpecializedValue<int>>(ScanKernels.ChunkSteps);
            var states = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ScanGemmParams, SpecializedValue<int>>(ScanGemmKernels.ChunkStates, bounds);
            ChunkSteps = (config, m, bias, u, initial, carries, decoders, y, decoded, ends, p) =>
                steps(config, m, bias, u, initial, carries, decoders, y, decoded, ends, p, SpecializedValue.New(p.Flags));
            ChunkStates = (config, w, u, starts, y, p, side) => states(config, w, u, starts, y, p, SpecializedValue.New(side));
            var windows = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowProductParams, SpecializedValue<int>>(WindowGemmKernels.WindowProduct, bounds);
            WindowProduct = (config, w, u, y, final, p, side) => windows(config, w, u, y, final, p, SpecializedValue.New(side));
        }
        else
        {
            ChunkSteps = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ScanParams>(ScanKernels.ChunkStepsUnspecialized);
            ChunkStates = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ScanGemmParams, int>(ScanGemmKernels.ChunkStatesUnspecialized, bounds);
            WindowProduct = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowProductParams, int>(WindowGemmKernels.WindowProductUnspecialized, bounds);
        }

        Sequence = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, MemorySequenceParams>(LinearMemoryKernels.Sequence);
        ChunkStarts = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ScanGemmParams, int>(ScanGemmKernels.ChunkStarts);
    }

    /// <summary><see cref="ScanKernels.ChunkEnds"/>.</summary>
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ScanParams> ChunkEnds { get; }

    /// <summary><see cref="WindowKernels.WindowStates"/>.</summary>
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowParams> WindowStates { get; }

    /// <summary><see cref="ScanKernels.Carries"/>.</summary>
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ScanParams> Carries { get; }

    /// <summary><see cref="ScanKernels.ChunkSteps"/>, its flags taken from the params: specialised, or read at run time.</summary>
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ScanParams> ChunkSteps { get; }

    /// <summary><see cref="ScanGemmKernels.ChunkStates"/> with the group side: specialised, or read at run time.</summary>
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ScanGemmParams, int> ChunkStates { get; }

    /// <summary><see cref="WindowGemmKernels.WindowProduct"/> with the group side: specialised, or read at run time.</summary>
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowProductParams, int> WindowProduct { get; }

    /// <summary><see cref="LinearMemoryKernels.Sequence"/>.</summary>
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, MemorySequenceParams> Sequence { get; }

    /// <summary><see cref="ScanGemmKernels.ChunkStarts"/>.</summary>
    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ScanGemmParams, int> ChunkStarts { get; }

    /// <summary>The set for <paramref name="accelerator"/> under the current <c>$LMU_SPECIALIZE</c> and
    /// <c>$LMU_GEMM_GROUPS_PER_SM</c>, loaded on first use.</summary>
    /// <param name="accelerator">The accelerator.</param>
    /// <returns>The set.</returns>
    public static ScanKernelSet For(Accelerator accelerator)
    {
        bool specialize = ScanKernelSpecialization.Enabled();
        int groups = GemmOccupancy.FromEnvironment();
        return DeviceKernels.GetOrCreate(accelerator, (typeof(ScanKernelSet), specialize, groups), a => new ScanKernelSet(a, specialize, groups));
    }

    /// <summary><see cref="ScanTensorKernels.ChunkStates"/>, loaded on first use (only where
    /// <see cref="DeviceMemoryEngine.SupportsTensorKernel"/>).</summary>
    /// <returns>The launcher.</returns>
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ScanGemmParams> TensorStates()
    {
        lock (_tensorLock)
        {
            return _tensorStates ??= _accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ScanGemmParams>(
                ScanTensorKernels.ChunkStates, GemmOccupancy.For(_accelerator.AcceleratorType, 16, _groupsPerMultiprocessor));
        }
    }

    /// <summary><see cref="WindowTensorKernels.WindowProduct"/>, loaded on first use (only where
    /// <see cref="DeviceMemoryEngine.SupportsTensorKernel"/>).</summary>
    /// <returns>The launcher.</returns>
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowProductParams> TensorWindows()
    {
        lock (_tensorLock)
        {
            return _tensorWindows ??= _accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowProductParams>(
                WindowTensorKernels.WindowProduct, GemmOccupancy.For(_accelerator.AcceleratorType, 16, _groupsPerMultiprocessor));
        }
    }

    /// <summary><see cref="AdjointGemmKernels.ChunkProduct"/> with the group side (specialised), loaded on first use.</summary>
    /// <returns>The launcher.</returns>
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdjointProductParams, int> AdjointProduct()
    {
        lock (_tensorLock)
        {
            var kernel = _adjointProduct ??= _accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdjointProductParams, SpecializedValue<int>>(
                AdjointGemmKernels.ChunkProduct, GemmOccupancy.For(_accelerator.AcceleratorType, DeviceMemoryEngine.GemmGroupSide(_accelerator), _groupsPerMultiprocessor));
            return (config, w, g, carries, output, p, side) => kernel(config, w, g, carries, output, p, SpecializedValue.New(side));
        }
    }
}
