using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using ILGPU.Runtime;

namespace Lmu.Gpu;

/// <summary>
/// Kernel launchers loaded once per accelerator and held for the accelerator's life. ILGPU 1.5.3 caches compiled and
/// loaded kernels through weak references only, so after a garbage collection an object that loads its kernels again
/// (a new memory, population, model or run) makes ILGPU compile them again and, on CUDA, the driver JIT them again.
/// </summary>
internal static class DeviceKernels
{
    private static readonly ConditionalWeakTable<Accelerator, ConcurrentDictionary<object, object>> Loaded = new();

    /// <summary>The object made by <paramref name="create"/> for <paramref name="key"/> on <paramref name="accelerator"/>,
    /// made once and held for the accelerator's life (a set of launchers, or one launcher).</summary>
    /// <typeparam name="T">Its type.</typeparam>
    /// <param name="accelerator">The accelerator.</param>
    /// <param name="key">What it is (compared by value).</param>
    /// <param name="create">Makes it.</param>
    /// <returns>The object.</returns>
    public static T GetOrCreate<T>(Accelerator accelerator, object key, Func<Accelerator, T> create)
        where T : class
    {
        var loaded = Loaded.GetValue(accelerator, _ => new());
        return (T)loaded.GetOrAdd(key, _ => create(accelerator));
    }

    /// <summary>The launcher of <paramref name="kernel"/> on <paramref name="accelerator"/>: the one loaded before, or
    /// <paramref name="load"/>'s.</summary>
    /// <typeparam name="TLauncher">The launcher's delegate type.</typeparam>
    /// <param name="accelerator">The accelerator.</param>
    /// <param name="kernel">The kernel method (with the launcher type, the key).</param>
    /// <param name="load">Loads it (an ILGPU <c>Load…Kernel</c> call).</param>
    /// <returns>The launcher.</returns>
    public static TLauncher GetOrLoad<TLauncher>(Accelerator accelerator, Delegate kernel, Func<Accelerator, TLauncher> load)
        where TLauncher : Delegate =>
        GetOrCreate(accelerator, (kernel.Method, typeof(TLauncher)), load);
}
