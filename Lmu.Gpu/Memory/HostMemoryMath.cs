using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Lmu.Gpu;

/// <summary>Vectorised host kernels for the linear memory (AVX-512, else AVX2, else scalar).</summary>
internal static class HostMemoryMath
{
    /// <summary>dst = Ā·m + B̄·u with Ā given transposed (row j of <paramref name="aT"/> is column j of Ā).
    /// Register-blocked: each block of output lanes is accumulated over all j before it is stored.</summary>
    /// <remarks><paramref name="dst"/> must not overlap <paramref name="m"/>. Compiled fully optimised at its first
    /// call (a streaming <see cref="LinearMemory.Step(ReadOnlySpan{float})"/> or a short sequence would otherwise run the tier-0 code,
    /// measured 4–5× slower at d = 256).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Advance(ReadOnlySpan<float> aT, ReadOnlySpan<float> bBar, ReadOnlySpan<float> m, float u, Span<float> dst)
    {
        int d = bBar.Length;
        ref float a = ref MemoryMarshal.GetReference(aT);
        ref float b = ref MemoryMarshal.GetReference(bBar);
        ref float x = ref MemoryMarshal.GetReference(m);
        ref float y = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var uu = Vector512.Create(u);
            for (; i + 64 <= d; i += 64)
            {
                var s0 = Vector512.LoadUnsafe(ref b, (nuint)i) * uu;
                var s1 = Vector512.LoadUnsafe(ref b, (nuint)(i + 16)) * uu;
                var s2 = Vector512.LoadUnsafe(ref b, (nuint)(i + 32)) * uu;
                var s3 = Vector512.LoadUnsafe(ref b, (nuint)(i + 48)) * uu;
                for (int j = 0; j < d; j++)
                {
                    var mj = Vector512.Create(Unsafe.Add(ref x, j));
                    ref float row = ref Unsafe.Add(ref a, j * d + i);
                    s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref row), mj, s0);
                    s1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref row, 16), mj, s1);
                    s2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref row, 32), mj, s2);
                    s3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref row, 48), mj, s3);
                }

                s0.StoreUnsafe(ref y, (nuint)i);
                s1.StoreUnsafe(ref y, (nuint)(i + 16));
                s2.StoreUnsafe(ref y, (nuint)(i + 32));
                s3.StoreUnsafe(ref y, (nuint)(i + 48));
            }

            for (; i + 16 <= d; i += 16)
            {
                var s0 = Vector512.LoadUnsafe(ref b, (nuint)i) * uu;
                for (int j = 0; j < d; j++)
                {
                    s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, (nuint)(j * d + i)), Vector512.Create(Unsafe.Add(ref x, j)), s0);
                }

                s0.StoreUnsafe(ref y, (nuint)i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            var uu = Vector256.Create(u);
            for (; i + 32 <= d; i += 32)
            {
                var s0 = Vector256.LoadUnsafe(ref b, (nuint)i) * uu;
                var s1 = Vector256.LoadUnsafe(ref b, (nuint)(i + 8)) * uu;
                var s2 = Vector256.LoadUnsafe(ref b, (nuint)(i + 16)) * uu;
                var s3 = Vector256.LoadUnsafe(ref b, (nuint)(i + 24)) * uu;
                for (int j = 0; j < d; j++)
                {
                    var mj = Vector256.Create(Unsafe.Add(ref x, j));
                    ref float row = ref Unsafe.Add(ref a, j * d + i);
                    s0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref row), mj, s0);
                    s1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref row, 8), mj, s1);
                    s2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref row, 16), mj, s2);
                    s3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref row, 24), mj, s3);
                }

                s0.StoreUnsafe(ref y, (nuint)i);
                s1.StoreUnsafe(ref y, (nuint)(i + 8));
                s2.StoreUnsafe(ref y, (nuint)(i + 16));
                s3.StoreUnsafe(ref y, (nuint)(i + 24));
            }

            for (; i + 8 <= d; i += 8)
            {
                var s0 = Vector256.LoadUnsafe(ref b, (nuint)i) * uu;
                for (int j = 0; j < d; j++)
                {
                    s0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)(j * d + i)), Vector256.Create(Unsafe.Add(ref x, j)), s0);
                }

                s0.StoreUnsafe(ref y, (nuint)i);
            }
        }

        for (; i < d; i++)
        {
            float acc = Unsafe.Add(ref b, i) * u;
            for (int j = 0; j < d; j++)
            {
                acc = MathF.FusedMultiplyAdd(Unsafe.Add(ref a, j * d + i), Unsafe.Add(ref x, j), acc);
            }

            Unsafe.Add(ref y, i) = acc;
        }
    }

    /// <summary>y[q] = C[q,:]·m for every decoder row.</summary>
    public static void Decode(ReadOnlySpan<float> decoders, int delays, ReadOnlySpan<float> m, Span<float> y)
    {
        int d = m.Length;
        for (int q = 0; q < delays; q++)
        {
            y[q] = TensorPrimitives.Dot(decoders.Slice(q * d, d), m);
        }
    }
}
