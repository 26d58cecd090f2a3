namespace Lmu.Gpu;

/// <summary>Which compute backend runs the library's work.</summary>
public enum AcceleratorKind
{
    /// <summary>CUDA if a CUDA device is present, else OpenCL, else <see cref="Cpu"/>.</summary>
    Auto = 0,

    /// <summary>The host path: vectorised (AVX2/AVX-512) multi-threaded C# on the CPU. No GPU kernels run.</summary>
    Cpu = 1,

    /// <summary>An NVIDIA GPU through ILGPU's CUDA backend.</summary>
    Cuda = 2,

    /// <summary>An OpenCL 2.0+ device (or 3.0 with the generic address space) through ILGPU. Untested: no such
    /// device was available to the project.</summary>
    OpenCL = 3,

    /// <summary>ILGPU's CPU accelerator: runs the GPU kernels in a slow multi-threaded simulator. For testing the
    /// kernels without a GPU, never for speed.</summary>
    CpuSimulator = 4,
}
