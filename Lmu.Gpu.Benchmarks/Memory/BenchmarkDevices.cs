namespace Lmu.Gpu.Benchmarks.Memory;

/// <summary>The accelerators the memory benchmarks run on: the host path always, plus CUDA when a CUDA device is
/// present. ILGPU's CPU simulator is left out on purpose: it is a slow simulator and measures nothing about GPUs.</summary>
public static class BenchmarkDevices
{
    /// <summary>Accelerator names for [ParamsSource].</summary>
    /// <returns>"cpu", then "cuda" if found.</returns>
    public static IEnumerable<string> Names()
    {
        yield return "cpu";
        bool cuda;
        try
        {
            cuda = LmuDevice.ListDevices().Any(d => d.Kind == AcceleratorKind.Cuda);
        }
        catch (Exception e) when (e is InvalidOperationException or DllNotFoundException or TypeInitializationException)
        {
            cuda = false;
        }

        if (cuda)
        {
            yield return "cuda";
        }
    }
}
