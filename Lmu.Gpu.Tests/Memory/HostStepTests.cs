using Lmu.Gpu.Tests.Scan;

namespace Lmu.Gpu.Tests.Memory;

/// <summary>The host path's streaming step of many memories as one product (<see cref="HostStep"/>): groups of eight
/// memories with a shorter last group (five to eight columns take the eight-column kernel, up to four the four-column
/// one), orders with rows past the vector blocks, and the parallel path; against the double-precision reference from
/// random initial states.</summary>
[TestFixture]
public sealed class HostStepTests
{
    [TestCase(2, 8)]
    [TestCase(3, 37)]
    [TestCase(5, 37)]
    [TestCase(8, 16)]
    [TestCase(13, 40)]
    [TestCase(20, 33)]
    [TestCase(64, 256)]
    public void Step_OfManyMemories_MatchesDoubleReference(int memories, int order)
    {
        // 64 memories at d = 256 is 4.2·10⁶ multiply-adds a step: the groups run in parallel.
        const int steps = 6;
        var system = LmuSystem.Create(order, 30);
        float[] input = ScanTestData.Uniform((long)memories * steps, seed: 101);
        float[] initial = ScanTestData.Uniform((long)memories * order, seed: 102, scale: 3f);
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        using var memory = new LinearMemory(device, system, memories);
        memory.SetStates(initial);
        var row = new float[memories];
        for (int t = 0; t < steps; t++)
        {
            for (int n = 0; n < memories; n++)
            {
                row[n] = input[(n * steps) + t];
            }

            memory.Step(row);
        }

        // The reference from the same initial states: the sequence run of the initial states' free evolution plus the
        // input's response, in double.
        double[] expected = Reference(system, initial, input, memories, steps);
        Assert.That(ScanTestData.RelativeMaxError(memory.GetStates(), expected), Is.LessThanOrEqualTo(1e-6));
    }

    private static double[] Reference(LmuSystem system, float[] initial, float[] input, int memories, int steps)
    {
        int d = system.Order;
        var a = system.DiscreteA;
        var b = system.DiscreteB;
        var m = new double[(long)memories * d];
        var next = new double[d];
        for (int n = 0; n < memories; n++)
        {
            for (int i = 0; i < d; i++)
            {
                m[(n * d) + i] = initial[(n * d) + i];
            }

            for (int t = 0; t < steps; t++)
            {
                for (int i = 0; i < d; i++)
                {
                    double sum = b[i] * input[(n * steps) + t];
                    for (int j = 0; j < d; j++)
                    {
                        sum += a[(i * d) + j] * m[(n * d) + j];
                    }

                    next[i] = sum;
                }

                next.CopyTo(m, n * d);
            }
        }

        return m;
    }
}
