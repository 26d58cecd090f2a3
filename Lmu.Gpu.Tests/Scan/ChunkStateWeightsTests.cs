using NUnit.Framework;

namespace Lmu.Gpu.Tests.Scan;

/// <summary>The weights of the matrix-product phase C: their block layout, and the zeros that the kernel's branch-free
/// staging relies on (it reads finite but meaningless values where these weights are zero).</summary>
[TestFixture]
public sealed class ChunkStateWeightsTests
{
    [TestCase(4)]
    [TestCase(16)]
    public void At_MapsEveryWeightToItsOwnPlace(int side)
    {
        const int depth = 48;
        int rows = 3 * 8 * side;
        var seen = new HashSet<long>();
        for (int m = 0; m < rows; m++)
        {
            for (int r = 0; r < depth; r++)
            {
                long at = ChunkStateWeights.At(m, r, depth, side);
                Assert.That(at, Is.InRange(0L, ((long)rows * depth) - 1));
                Assert.That(seen.Add(at), Is.True, $"m={m} r={r}");
            }
        }

        // A stage (side depths of one block) is one contiguous run.
        Assert.That(ChunkStateWeights.At(8 * side, side, depth, side) - ChunkStateWeights.At(8 * side, 0, depth, side), Is.EqualTo(8 * side * side));
    }

    [TestCase(6, 4, 8)]
    [TestCase(20, 16, 32)]
    [TestCase(256, 16, 256)]
    public void CarryDepth_RoundsTheOrderUpToTheSide(int order, int side, int expected) =>
        Assert.That(ChunkStateWeights.CarryDepth(order, side), Is.EqualTo(expected));

    [Test]
    public void States_HaveZeroWeightOnPaddedCarryRowsAndLaterInputs()
    {
        // d = 6 at side 4: carry depth 8, so depths 6 and 7 are padding; L = 5: input q > j has no weight on step j.
        const int order = 6, side = 4, length = 5;
        var system = LmuSystem.Create(order, 20);
        float[] weights = ChunkStateWeights.States(system, length, side);
        int depth = ChunkStateWeights.PaddedDepth(order, length, side);
        int carry = ChunkStateWeights.CarryDepth(order, side);
        for (int j = 0; j < length; j++)
        {
            for (int e = 0; e < order; e++)
            {
                int m = (j * order) + e;
                for (int r = order; r < carry; r++)
                {
                    Assert.That(weights[ChunkStateWeights.At(m, r, depth, side)], Is.Zero, $"padded carry row {r}");
                }

                for (int q = 0; q < depth - carry; q++)
                {
                    float w = weights[ChunkStateWeights.At(m, carry + q, depth, side)];
                    if (q > j)
                    {
                        Assert.That(w, Is.Zero, $"step {j}, input {q}");
                    }
                }

                // B̄ drives the state on the input's own step: the diagonal input weight is B̄ itself.
                Assert.That(weights[ChunkStateWeights.At(m, carry + j, depth, side)], Is.EqualTo((float)system.DiscreteB[e]).Within(1e-6));
            }
        }
    }
}
