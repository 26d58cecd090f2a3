using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Lmu.Gpu.Kernels.Spiking;

namespace Lmu.Spiking;

/// <summary>Philox-4x32-10 on eight counters at once with AVX-512 (one 32×32→64 <c>vpmuludq</c> per multiply,
/// 32-bit words zero-extended in 64-bit lanes). Gives exactly <see cref="Philox4x32.Generate"/> per lane.</summary>
internal static class PhiloxHost
{
    /// <summary>True when the eight-lane path runs on this CPU.</summary>
    public static bool IsVectorized => Avx512F.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Generate8(Vector512<ulong> c0, Vector512<ulong> c1, Vector512<ulong> c2, Vector512<ulong> c3,
        uint k0, uint k1, out Vector512<ulong> x0, out Vector512<ulong> x1, out Vector512<ulong> x2, out Vector512<ulong> x3)
    {
        var m0 = Vector512.Create((ulong)Philox4x32.M0).AsUInt32();
        var m1 = Vector512.Create((ulong)Philox4x32.M1).AsUInt32();
        var mask = Vector512.Create(0xFFFF_FFFFUL);
        for (int r = 0; r < Philox4x32.Rounds; r++)
        {
            var p0 = Avx512F.Multiply(c0.AsUInt32(), m0);
            var p1 = Avx512F.Multiply(c2.AsUInt32(), m1);
            var n0 = (p1 >>> 32) ^ c1 ^ Vector512.Create((ulong)k0);
            var n2 = (p0 >>> 32) ^ c3 ^ Vector512.Create((ulong)k1);
            c1 = p1 & mask;
            c3 = p0 & mask;
            c0 = n0;
            c2 = n2;
            k0 += Philox4x32.W0;
            k1 += Philox4x32.W1;
        }

        x0 = c0;
        x1 = c1;
        x2 = c2;
        x3 = c3;
    }

    /// <summary>Block indices b … b + 7 as zero-extended low and high words.</summary>
    public static void Blocks8(long block, out Vector512<ulong> low, out Vector512<ulong> high)
    {
        var b = Vector512.Create((ulong)block) + Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
        low = b & Vector512.Create(0xFFFF_FFFFUL);
        high = b >>> 32;
    }

    /// <summary>The host form of <see cref="SpikeMath.ThresholdCount"/>.</summary>
    public static uint ThresholdCount(uint word, ReadOnlySpan<uint> thresholds)
    {
        uint n = 0;
        for (int k = 0; k < thresholds.Length && word > thresholds[k]; k++)
        {
            n++;
        }

        return n;
    }
}
