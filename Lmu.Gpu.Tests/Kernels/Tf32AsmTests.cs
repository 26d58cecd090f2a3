using System.Text.RegularExpressions;
using Lmu.Gpu.Kernels.Memory;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Kernels;

/// <summary>
/// The inline PTX of the tensor-core phase C (<see cref="Tf32Mma"/>), checked without a GPU: a small interpreter runs
/// <see cref="Tf32Mma.Step"/> for the 32 lanes of each warp (its 16-byte shared loads at the addresses the kernel
/// passes, and <c>mma.sync.m16n8k8</c> by the fragment layout of the PTX ISA, section "Matrix Fragments for
/// mma.m16n8k8", .tf32), on a tile filled through the same layout functions as the kernel and the host packer
/// (<see cref="TensorFragmentCheck.FillTile"/>), and the accumulators must equal the 3×TF32 product of the warp's rows
/// and columns. Also the split (<see cref="TensorTile.RoundTf32"/>) and the weight packing.
/// </summary>
[TestFixture]
public sealed class Tf32AsmTests
{
    [Test]
    public void Step_ComputesEachWarpsTileFromTheSharedLayout()
    {
        var (w, z) = TensorFragmentCheck.RandomOperands(71);
        float[] tile = TensorFragmentCheck.FillTile(w, z);
        for (int warp = 0; warp < 8; warp++)
        {
            var lanes = Enumerable.Range(0, 32).Select(_ => new Dictionary<string, float>()).ToArray();
            foreach (var registers in lanes)
            {
                for (int i = 0; i < 64; i++)
                {
                    registers[$"lmuacc{i}"] = 0;
                }
            }

            for (int half = 0; half < 2; half++)
            {
                int h = half;
                Interpret(Tf32Mma.Step, lanes, tile, lane => [16 * TensorTile.LaneWeightUnit(warp, lane, h), 16 * TensorTile.LaneOperandUnit(warp, lane, h)]);
            }

            for (int lane = 0; lane < 32; lane++)
            {
                for (int register = 0; register < 64; register++)
                {
                    // Register (mt·4 + nt)·4 + i is tile value (2·mt + i / 2, 2·nt + i mod 2) of Tf32Mma.Read.
                    int mt = register / 16, nt = (register / 4) % 4, i = register % 4;
                    var (m, n) = TensorFragmentCheck.Place((warp * 32) + lane, (2 * mt) + (i >> 1), (2 * nt) + (i & 1));
                    Assert.That(lanes[lane][$"lmuacc{register}"], Is.EqualTo(TensorFragmentCheck.Product(w, z, m, n)).Within(1e-5),
                        $"warp {warp}, lane {lane}, lmuacc{register} (row {m}, column {n})");
                }
            }
        }
    }

    [Test]
    public void Declare_ZeroesEveryAccumulatorAndSizesTheTile()
    {
        string declare = Tf32Mma.Declare;
        for (int i = 0; i < 64; i++)
        {
            Assert.That(declare, Does.Contain($"mov.b32 lmuacc{i}, 0;"));
        }

        Assert.That(declare, Does.Contain(".reg .f32 lmuacc<64>;"));
        Assert.That(declare, Does.Contain($".shared .align 16 .b8 lmutile[{TensorTile.Bytes}];"));
        Assert.That(Regex.Matches(Tf32Mma.Step, @"mma\.sync\.aligned\.m16n8k8\.row\.col\.f32\.tf32\.tf32\.f32").Count, Is.EqualTo(48));
    }

    [Test]
    public void RoundTf32_KeepsTenMantissaBitsAndTheSplitRecoversFloat32()
    {
        var random = new Random(72);
        for (int i = 0; i < 10_000; i++)
        {
            float x = (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-6, 7)));
            float big = TensorTile.RoundTf32(x);
            float small = TensorTile.SmallTf32(x, big);
            Assert.That(BitConverter.SingleToUInt32Bits(big) & 0x1FFFu, Is.Zero);
            Assert.That(BitConverter.SingleToUInt32Bits(small) & 0x1FFFu, Is.Zero);
            Assert.That(Math.Abs(x - big), Is.LessThanOrEqualTo(Math.Abs(x) * Math.Pow(2, -11)));
            Assert.That(Math.Abs(x - ((double)big + small)), Is.LessThanOrEqualTo(Math.Abs(x) * Math.Pow(2, -21)));
        }

        // Ties away from zero, as cvt.rna: 1 + 2⁻¹¹ is halfway between 1 and 1 + 2⁻¹⁰.
        Assert.That(TensorTile.RoundTf32(1f + MathF.Pow(2, -11)), Is.EqualTo(1f + MathF.Pow(2, -10)));
        Assert.That(TensorTile.RoundTf32(-1f - MathF.Pow(2, -11)), Is.EqualTo(-1f - MathF.Pow(2, -10)));
    }

    [Test]
    public void Pack_PutsEveryWeightWhereTheFragmentsReadIt()
    {
        // Two row blocks, three stages, W[m, r] = m + r/100 in ChunkStateWeights' block layout at side 16.
        const int paddedRows = 256, paddedDepth = 48;
        var blocked = new float[paddedRows * paddedDepth];
        for (int m = 0; m < paddedRows; m++)
        {
            for (int r = 0; r < paddedDepth; r++)
            {
                blocked[ChunkStateWeights.At(m, r, paddedDepth, 16)] = m + (r / 100f);
            }
        }

        float[] packed = TensorWeights.Pack(blocked, paddedRows, paddedDepth);
        for (int m = 0; m < paddedRows; m++)
        {
            for (int r = 0; r < paddedDepth; r++)
            {
                int block = m / 128, stage = r / 16, half = (r % 16) / 8, k = r % 8, mt = (m % 128) / 16, row = m % 16;
                long at = ((((long)block * 3) + stage) * TensorTile.WeightUnits * 4) + TensorTile.WeightComponent(row, k);
                long big = at + (4 * TensorTile.WeightUnit(half, mt, 0, TensorTile.WeightLane(row, k)));
                long small = at + (4 * TensorTile.WeightUnit(half, mt, 1, TensorTile.WeightLane(row, k)));
                float x = m + (r / 100f);
                Assert.That(packed[big], Is.EqualTo(TensorTile.RoundTf32(x)), $"W[{m}, {r}] big");
                Assert.That(packed[small], Is.EqualTo(TensorTile.SmallTf32(x, TensorTile.RoundTf32(x))), $"W[{m}, {r}] small");
            }
        }
    }

    [Test]
    public void Pack_ThrowsForSizesOffTheBlock()
    {
        Assert.Throws<ArgumentException>(() => TensorWeights.Pack(new float[100 * 48], 100, 48));
        Assert.Throws<ArgumentException>(() => TensorWeights.Pack(new float[128 * 40], 128, 40));
        Assert.Throws<ArgumentException>(() => TensorWeights.Pack(new float[128 * 47], 128, 48));
    }

    /// <summary>Runs an asm string for the 32 lanes of a warp: <c>mov.u32 r, lmutile</c> (the tile's address, 0 here),
    /// <c>add.u32 r, s, %i</c> (byte offsets from the operands), <c>ld.shared.v4.b32 {…}, [r+offset]</c> into
    /// <paramref name="tile"/> (16-byte aligned, inside it) and
    /// <c>mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {d}, {a}, {b}, {c}</c> by the PTX ISA's fragments; scope
    /// braces and <c>.reg</c> declarations are skipped, anything else fails the test.</summary>
    private static void Interpret(string asm, Dictionary<string, float>[] lanes, float[] tile, Func<int, int[]> operands)
    {
        var addresses = Enumerable.Range(0, 32).Select(_ => new Dictionary<string, int>()).ToArray();
        foreach (string raw in asm.Split('\n'))
        {
            string line = raw.Trim().TrimEnd(';').Trim();
            if (line is "" or "{" or "}" || line.StartsWith(".reg ", StringComparison.Ordinal))
            {
                continue;
            }

            var symbol = Regex.Match(line, @"^mov\.u32 (\w+), lmutile$");
            if (symbol.Success)
            {
                // The tile's own address: offsets from it are what the interpreter's tile is indexed by.
                Array.ForEach(addresses, a => a[symbol.Groups[1].Value] = 0);
                continue;
            }

            var add = Regex.Match(line, @"^add\.u32 (\w+), (\w+), %(\d)$");
            if (add.Success)
            {
                for (int lane = 0; lane < 32; lane++)
                {
                    addresses[lane][add.Groups[1].Value] = addresses[lane][add.Groups[2].Value] + operands(lane)[int.Parse(add.Groups[3].Value)];
                }

                continue;
            }

            var load = Regex.Match(line, @"^ld\.shared\.v4\.b32 \{(\w+),(\w+),(\w+),(\w+)\}, \[(\w+)\+(\d+)\]$");
            if (load.Success)
            {
                for (int lane = 0; lane < 32; lane++)
                {
                    int address = addresses[lane][load.Groups[5].Value] + int.Parse(load.Groups[6].Value);
                    Assert.That(address % 16, Is.Zero, line);
                    Assert.That(address + 16, Is.LessThanOrEqualTo(TensorTile.Bytes), line);
                    for (int c = 0; c < 4; c++)
                    {
                        lanes[lane][load.Groups[c + 1].Value] = tile[(address / 4) + c];
                    }
                }

                continue;
            }

            var mma = Regex.Match(line, @"^mma\.sync\.aligned\.m16n8k8\.row\.col\.f32\.tf32\.tf32\.f32 \{([\w,]+)\}, \{([\w,]+)\}, \{([\w,]+)\}, \{([\w,]+)\}$");
            Assert.That(mma.Success, Is.True, $"instruction the interpreter does not know: {line}");
            string[] d = mma.Groups[1].Value.Split(','), a = mma.Groups[2].Value.Split(','), b = mma.Groups[3].Value.Split(','), c4 = mma.Groups[4].Value.Split(',');
            var matrixA = new float[16, 8];
            var matrixB = new float[8, 8];
            var matrixC = new float[16, 8];
            for (int lane = 0; lane < 32; lane++)
            {
                int g = lane >> 2, q = lane & 3;
                var r = lanes[lane];
                matrixA[g, q] = r[a[0]];
                matrixA[g + 8, q] = r[a[1]];
                matrixA[g, q + 4] = r[a[2]];
                matrixA[g + 8, q + 4] = r[a[3]];
                matrixB[q, g] = r[b[0]];
                matrixB[q + 4, g] = r[b[1]];
                matrixC[g, 2 * q] = r[c4[0]];
                matrixC[g, (2 * q) + 1] = r[c4[1]];
                matrixC[g + 8, 2 * q] = r[c4[2]];
                matrixC[g + 8, (2 * q) + 1] = r[c4[3]];
            }

            for (int lane = 0; lane < 32; lane++)
            {
                int g = lane >> 2, q = lane & 3;
                (int Row, int Column)[] places = [(g, 2 * q), (g, (2 * q) + 1), (g + 8, 2 * q), (g + 8, (2 * q) + 1)];
                for (int i = 0; i < 4; i++)
                {
                    double sum = matrixC[places[i].Row, places[i].Column];
                    for (int k = 0; k < 8; k++)
                    {
                        sum += (double)matrixA[places[i].Row, k] * matrixB[k, places[i].Column];
                    }

                    lanes[lane][d[i]] = (float)sum;
                }
            }
        }
    }
}
