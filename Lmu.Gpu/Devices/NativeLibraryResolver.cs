using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU;

namespace Lmu.Gpu;

/// <summary>Lets ILGPU find <c>libcuda.so.1</c> and <c>libOpenCL.so.1</c> where the unversioned development
/// links (<c>libcuda.so</c>, <c>libOpenCL.so</c>) are missing, as on driver-only installs and containers.</summary>
internal static class NativeLibraryResolver
{
    private static readonly Lock Gate = new();
    private static bool _installed;

    public static void EnsureInstalled()
    {
        lock (Gate)
        {
            if (_installed)
            {
                return;
            }

            try
            {
                NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, Resolve);
            }
            catch (InvalidOperationException)
            {
                // Someone else installed a resolver for ILGPU already; theirs stays.
            }

            _installed = true;
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        string[] candidates = name switch
        {
            "cuda" or "nvcuda" => OperatingSystem.IsWindows() ? ["nvcuda.dll"] : ["libcuda.so", "libcuda.so.1"],
            "OpenCL" => OperatingSystem.IsWindows() ? ["OpenCL.dll"] : ["libOpenCL.so", "libOpenCL.so.1"],
            _ => [],
        };
        foreach (string candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, assembly, searchPath, out IntPtr handle))
            {
                return handle;
            }
        }

        return IntPtr.Zero; // fall back to the default probing
    }
}
