namespace Lmu.Gpu.Kernels.Spiking;

/// <summary>
/// The counter-based generator Philox-4x32-10 (Salmon et al., SC'11; Random123): a bijection of a 128-bit counter
/// under a 64-bit key, giving four independent 32-bit words per call. It has no state, so the same
/// (key, counter) gives the same words on the host, in ILGPU's CPU simulator and on a GPU, for any launch shape.
/// </summary>
/// <remarks>
/// The library keys it with the seed and counts with (block index low, block index high, step, stream), where
/// one block serves four neurons (one word each) and <c>stream</c> separates independent uses of one seed
/// (see <see cref="PhiloxStreams"/>). Known answer (Random123 kat_vectors): counter 0, key 0 gives
/// 0x6627e8d5 0xe169c58d 0xbc57ac4c 0x9b00dbd8.
/// </remarks>
public readonly struct Philox4x32
{
    /// <summary>First round multiplier.</summary>
    public const uint M0 = 0xD2511F53u;

    /// <summary>Second round multiplier.</summary>
    public const uint M1 = 0xCD9E8D57u;

    /// <summary>First Weyl key increment (golden ratio).</summary>
    public const uint W0 = 0x9E3779B9u;

    /// <summary>Second Weyl key increment (√3 − 1).</summary>
    public const uint W1 = 0xBB67AE85u;

    /// <summary>The number of rounds.</summary>
    public const int Rounds = 10;

    /// <summary>Creates the four output words.</summary>
    /// <param name="x0">Word 0.</param>
    /// <param name="x1">Word 1.</param>
    /// <param name="x2">Word 2.</param>
    /// <param name="x3">Word 3.</param>
    public Philox4x32(uint x0, uint x1, uint x2, uint x3)
    {
        X0 = x0;
        X1 = x1;
        X2 = x2;
        X3 = x3;
    }

    /// <summary>Output word 0.</summary>
    public uint X0 { get; }

    /// <summary>Output word 1.</summary>
    public uint X1 { get; }

    /// <summary>Output word 2.</summary>
    public uint X2 { get; }

    /// <summary>Output word 3.</summary>
    public uint X3 { get; }

    /// <summary>Returns word <paramref name="index"/> (0…3).</summary>
    /// <param name="index">The word index; anything other than 0, 1, 2 gives word 3.</param>
    /// <returns>The word.</returns>
    public uint Word(int index) => index == 0 ? X0 : index == 1 ? X1 : index == 2 ? X2 : X3;

    /// <summary>Runs Philox-4x32-10 on one counter under one key.</summary>
    /// <param name="c0">Counter word 0.</param>
    /// <param name="c1">Counter word 1.</param>
    /// <param name="c2">Counter word 2.</param>
    /// <param name="c3">Counter word 3.</param>
    /// <param name="k0">Key word 0.</param>
    /// <param name="k1">Key word 1.</param>
    /// <returns>The four random words.</returns>
    public static Philox4x32 Generate(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int r = 0; r < Rounds; r++)
        {
            ulong p0 = (ulong)M0 * c0;
            ulong p1 = (ulong)M1 * c2;
            uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0;
            uint n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
            c1 = (uint)p1;
            c3 = (uint)p0;
            c0 = n0;
            c2 = n2;
            k0 += W0;
            k1 += W1;
        }

        return new Philox4x32(c0, c1, c2, c3);
    }

    /// <summary>Philox for block <paramref name="block"/> at <paramref name="step"/> in <paramref name="stream"/>
    /// under <paramref name="seed"/>: the library's standard counter layout.</summary>
    /// <param name="seed">The 64-bit seed (the key).</param>
    /// <param name="block">The block index (a block serves four neurons).</param>
    /// <param name="step">The time step.</param>
    /// <param name="stream">The stream (<see cref="PhiloxStreams"/>).</param>
    /// <returns>The four random words.</returns>
    public static Philox4x32 ForBlock(ulong seed, long block, uint step, uint stream) =>
        Generate((uint)block, (uint)((ulong)block >> 32), step, stream, (uint)seed, (uint)(seed >> 32));
}
