using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Kernels.Memory;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu;

/// <summary>
/// The PTX that ILGPU's CUDA backend emits for the library's kernels (sm_80, as loaded on a GPU), compiled without a
/// GPU, for <c>lmu ptx</c>: to read the code, or to run it through ptxas for register counts and spills
/// (docs/benchmarks/ptxas-check.md).
/// </summary>
internal static class KernelPtx
{
    /// <summary>The kernels by name: the method and whether it is explicitly grouped. Kernels that take specialised
    /// values go through wrappers with the constants of their main launches: chunk-states at the chosen side, window-product
    /// at side 16, dense-product at side 8 (a 64-unit layer) and 16, adjoint-product at 16 (the chunk starts at d ≥ 128)
    /// and 8 (the input gradient of L = 64 steps),
    /// chunk-steps with the flags of the forward 4×4 tile (d = 256 on a GPU), of the single-buffer tile (d = 64) and of
    /// the adjoint.</summary>
    private static readonly (string Name, Type Type, string Method, bool Explicit)[] Kernels =
    [
        ("chunk-states", typeof(KernelPtx), nameof(ChunkStatesSide16), true),
        ("chunk-states-tf32", typeof(ScanTensorKernels), nameof(ScanTensorKernels.ChunkStates), true),
        ("tensor-step", typeof(TensorFragmentKernels), nameof(TensorFragmentKernels.StepOnTile), true),
        ("chunk-starts", typeof(ScanGemmKernels), nameof(ScanGemmKernels.ChunkStarts), false),
        ("chunk-ends", typeof(ScanKernels), nameof(ScanKernels.ChunkEnds), true),
        ("carries", typeof(ScanKernels), nameof(ScanKernels.Carries), true),
        ("window-states", typeof(WindowKernels), nameof(WindowKernels.WindowStates), true),
        ("window-product", typeof(KernelPtx), nameof(WindowProductSide16), true),
        ("window-product-tf32", typeof(WindowTensorKernels), nameof(WindowTensorKernels.WindowProduct), true),
        ("chunk-steps", typeof(KernelPtx), nameof(ChunkStepsForward), true),
        ("chunk-steps-single", typeof(KernelPtx), nameof(ChunkStepsSingleBuffer), true),
        ("chunk-steps-adjoint", typeof(KernelPtx), nameof(ChunkStepsAdjoint), true),
        ("sequence", typeof(LinearMemoryKernels), nameof(LinearMemoryKernels.Sequence), true),
        ("cell-forward", typeof(CellKernels), nameof(CellKernels.Forward), true),
        ("cell-backward", typeof(CellKernels), nameof(CellKernels.Backward), true),
        ("memory-adjoint", typeof(TrainingKernels), nameof(TrainingKernels.MemoryAdjoint), true),
        ("adjoint-product", typeof(KernelPtx), nameof(AdjointProductSide16), true),
        ("adjoint-product-8", typeof(KernelPtx), nameof(AdjointProductSide8), true),
        ("dense-product", typeof(KernelPtx), nameof(DenseProductSide8), true),
        ("dense-product-16", typeof(KernelPtx), nameof(DenseProductSide16), true),
        ("finish-splits", typeof(DenseProductKernels), nameof(DenseProductKernels.FinishSplits), false),
        ("dropout", typeof(DropoutKernels), nameof(DropoutKernels.Apply), false),
        ("length-squared-error", typeof(LengthKernels), nameof(LengthKernels.SquaredError), false),
        ("length-select", typeof(LengthKernels), nameof(LengthKernels.SelectAt), false),
        ("length-scatter", typeof(LengthKernels), nameof(LengthKernels.ScatterAt), false),
        ("length-shift", typeof(LengthKernels), nameof(LengthKernels.Shift), false),
        ("step-move", typeof(StepMoveKernels), nameof(StepMoveKernels.Move), false),
    ];

    /// <summary>The kernel names <see cref="Compile(string, int, int)"/> knows.</summary>
    public static IReadOnlyList<string> Names { get; } = Kernels.Select(k => k.Name).ToArray();

    /// <summary>Compiles one kernel to PTX.</summary>
    /// <param name="name">One of <see cref="Names"/>.</param>
    /// <param name="side">For chunk-states: the group side the launch specialises (4, 8 or 16).</param>
    /// <param name="groupsPerMultiprocessor">For chunk-states, chunk-states-tf32 and the window products: the launch bound (<see cref="GemmOccupancy"/>; 0 =
    /// none).</param>
    /// <returns>The PTX text.</returns>
    /// <exception cref="ArgumentException">An unknown name, or a side other than 4, 8 or 16.</exception>
    public static string Compile(string name, int side = 16, int groupsPerMultiprocessor = GemmOccupancy.DefaultGroupsPerMultiprocessor)
    {
        var kernel = Kernels.FirstOrDefault(k => k.Name == name.Trim().ToLowerInvariant());
        if (kernel.Name is null)
        {
            throw new ArgumentException($"Unknown kernel '{name}'; known: {string.Join(", ", Names)}.", nameof(name));
        }

        var specialization = KernelSpecialization.Empty;
        string method = kernel.Method;
        if (kernel.Name == "chunk-states")
        {
            method = side switch
            {
                4 => nameof(ChunkStatesSide4),
                8 => nameof(ChunkStatesSide8),
                16 => nameof(ChunkStatesSide16),
                _ => throw new ArgumentException($"--side must be 4, 8 or 16 (threads along each side of a group), not {side}.", nameof(side)),
            };
            specialization = GemmOccupancy.For(AcceleratorType.Cuda, side, groupsPerMultiprocessor);
        }
        else if (kernel.Name is "window-product" or "window-product-tf32" or "dense-product" or "dense-product-16" or "adjoint-product" or "adjoint-product-8")
        {
            specialization = GemmOccupancy.For(AcceleratorType.Cuda, 16, groupsPerMultiprocessor);
        }
        else if (kernel.Name == "chunk-states-tf32")
        {
            specialization = GemmOccupancy.For(AcceleratorType.Cuda, 16, groupsPerMultiprocessor);
        }

        var info = kernel.Type.GetMethod(method, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)!;
        return Compile(info, kernel.Explicit, specialization);
    }

    /// <summary>Compiles any kernel method to PTX for sm_80, as the CUDA accelerator would.</summary>
    /// <param name="method">A static kernel method.</param>
    /// <param name="explicitlyGrouped">Whether it is an explicitly grouped kernel (else implicitly grouped).</param>
    /// <param name="specialization">Launch bounds to compile in (none by default).</param>
    /// <returns>The PTX text.</returns>
    public static string Compile(MethodInfo method, bool explicitlyGrouped, KernelSpecialization specialization = default)
    {
        var entry = explicitlyGrouped ? EntryPointDescription.FromExplicitlyGroupedKernel(method) : EntryPointDescription.FromImplicitlyGroupedKernel(method);
        using var context = Context.Create(b => b.Cuda().EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_80), CudaArchitecture.SM_80,
            CudaInstructionSet.ISA_80, null);
        return ((PTXCompiledKernel)backend.Compile(entry, specialization)).PTXAssembly;
    }

    private static void ChunkStatesSide4(ArrayView<float> weights, ArrayView<float> input, ArrayView<float> starts, ArrayView<float> output,
        ScanGemmParams p) => ScanGemmKernels.ChunkStates(weights, input, starts, output, p, SpecializedValue.New(4));

    private static void ChunkStatesSide8(ArrayView<float> weights, ArrayView<float> input, ArrayView<float> starts, ArrayView<float> output,
        ScanGemmParams p) => ScanGemmKernels.ChunkStates(weights, input, starts, output, p, SpecializedValue.New(8));

    private static void ChunkStatesSide16(ArrayView<float> weights, ArrayView<float> input, ArrayView<float> starts, ArrayView<float> output,
        ScanGemmParams p) => ScanGemmKernels.ChunkStates(weights, input, starts, output, p, SpecializedValue.New(16));

    private static void WindowProductSide16(ArrayView<float> weights, ArrayView<float> input, ArrayView<float> output, ArrayView<float> final,
        WindowProductParams p) => WindowGemmKernels.WindowProduct(weights, input, output, final, p, SpecializedValue.New(16));

    private static void AdjointProductSide16(ArrayView<float> weightsT, ArrayView<float> gradients, ArrayView<float> carries,
        ArrayView<float> output, AdjointProductParams p) => AdjointGemmKernels.ChunkProduct(weightsT, gradients, carries, output, p, SpecializedValue.New(16));

    private static void AdjointProductSide8(ArrayView<float> weightsT, ArrayView<float> gradients, ArrayView<float> carries,
        ArrayView<float> output, AdjointProductParams p) => AdjointGemmKernels.ChunkProduct(weightsT, gradients, carries, output, p, SpecializedValue.New(8));

    private static void DenseProductSide8(ArrayView<float> a, ArrayView<float> b, ArrayView<float> bias, ArrayView<float> c,
        ArrayView<float> partial, DenseProductParams p) => DenseProductKernels.Product(a, b, bias, c, partial, p, SpecializedValue.New(8));

    private static void DenseProductSide16(ArrayView<float> a, ArrayView<float> b, ArrayView<float> bias, ArrayView<float> c,
        ArrayView<float> partial, DenseProductParams p) => DenseProductKernels.Product(a, b, bias, c, partial, p, SpecializedValue.New(16));

    private static void ChunkStepsForward(ArrayView<float> matrixT, ArrayView<float> bias, ArrayView<float> input, ArrayView<float> initial,
        ArrayView<float> carries, ArrayView<float> decoders, ArrayView<float> states, ArrayView<float> decoded, ArrayView<float> ends,
        ScanParams p) => ScanKernels.ChunkSteps(matrixT, bias, input, initial, carries, decoders, states, decoded, ends, p,
        SpecializedValue.New(ScanKernels.ScanWriteStates | ScanKernels.ScanTile4x4));

    private static void ChunkStepsSingleBuffer(ArrayView<float> matrixT, ArrayView<float> bias, ArrayView<float> input, ArrayView<float> initial,
        ArrayView<float> carries, ArrayView<float> decoders, ArrayView<float> states, ArrayView<float> decoded, ArrayView<float> ends,
        ScanParams p) => ScanKernels.ChunkSteps(matrixT, bias, input, initial, carries, decoders, states, decoded, ends, p,
        SpecializedValue.New(ScanKernels.ScanWriteStates | ScanKernels.ScanTile4x4 | ScanKernels.ScanSingleBuffer));

    private static void ChunkStepsAdjoint(ArrayView<float> matrixT, ArrayView<float> bias, ArrayView<float> input, ArrayView<float> initial,
        ArrayView<float> carries, ArrayView<float> decoders, ArrayView<float> states, ArrayView<float> decoded, ArrayView<float> ends,
        ScanParams p) => ScanKernels.ChunkSteps(matrixT, bias, input, initial, carries, decoders, states, decoded, ends, p,
        SpecializedValue.New(ScanKernels.ScanReverse | ScanKernels.ScanVectorInput | ScanKernels.ScanWriteStates | ScanKernels.ScanDecode
            | ScanKernels.ScanTile4x4));
}
