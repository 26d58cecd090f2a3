using Lmu.Gpu;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Cell;

/// <summary>The cell forward pass (host path and ILGPU kernel on the CPU simulator) against the double reference.</summary>
[TestFixture]
public sealed class CellForwardTests : SimulatorAndHostFixture
{
    /// <summary>float32 vs double, host path, T = 200, n = 24: bound on max |Δh| / max(1, max |h|).</summary>
    private const double HostTolerance = 2e-4;

    /// <summary>float32 vs double, simulator kernel, T ≤ 30, n ≤ 6.</summary>
    private const double SimulatorTolerance = 2e-5;

    private static LmuCellOptions Full(int nx, int n, int d, int k, double theta, Activation act = Activation.Tanh) => new()
    {
        InputSize = nx,
        Units = n,
        Order = d,
        Theta = theta,
        MemoryChannels = k,
        Activation = act,
        MemoryBias = true,
        HiddenBias = true,
    };

    private static void Check(LmuDevice device, LmuCellOptions o, int batch, int steps, double tolerance, int seed = 1)
    {
        var w = CellReference.RandomWeights(o, seed);
        float[] x = CellReference.RandomInput(batch * steps * o.InputSize, seed + 7);
        using var layer = new LmuCellLayer(device, w, batch);
        float[] h = layer.Run(x, steps);
        var reference = CellReference.Forward(o, CellReference.ToDouble(w.ToFlat()), CellReference.ToDouble(x), batch, steps);
        double scale = Math.Max(1, reference.H.Max(Math.Abs));
        Assert.That(CellReference.MaxAbsDiff(h, reference.H) / scale, Is.LessThan(tolerance));

        // The streaming state is the last step's (h, m).
        float[] hState = layer.GetHiddenState();
        float[] mState = layer.GetMemoryState();
        int n = o.Units;
        int kd = o.MemorySize;
        for (int b = 0; b < batch; b++)
        {
            int last = (b * steps) + steps - 1;
            Assert.That(CellReference.MaxAbsDiff(hState.AsSpan(b * n, n), reference.H.AsSpan(last * n, n)) / scale, Is.LessThan(tolerance));
            Assert.That(CellReference.MaxAbsDiff(mState.AsSpan(b * kd, kd), reference.M.AsSpan(last * kd, kd)) / scale, Is.LessThan(tolerance * 10));
        }
    }

    [TestCase(Activation.Tanh)]
    [TestCase(Activation.Linear)]
    [TestCase(Activation.Relu)]
    [TestCase(Activation.Sigmoid)]
    public void Forward_MatchesDoubleReference_Host(Activation activation) =>
        Check(Host, Full(3, 24, 12, 2, 40, activation), batch: 5, steps: activation == Activation.Linear ? 40 : 200, HostTolerance);

    [Test]
    public void Forward_MatchesDoubleReference_PaperShapeSlice_Host()
    {
        // The paper's psMNIST cell (n_x = 1, n = 212, d = 256, θ = 784), default connections, a short run.
        var o = new LmuCellOptions { InputSize = 1, Units = 212, Order = 256, Theta = 784 };
        Check(Host, o, batch: 2, steps: 40, 5e-4);
    }

    [TestCase(Activation.Tanh)]
    [TestCase(Activation.Sigmoid)]
    public void Forward_MatchesDoubleReference_CpuSimulator(Activation activation) =>
        Check(Simulator, Full(2, 6, 4, 2, 8, activation), batch: 2, steps: 30, SimulatorTolerance);

    [Test]
    public void Forward_MatchesDoubleReference_NoOptionalConnections_CpuSimulator()
    {
        var o = Full(2, 5, 3, 1, 6) with { InputToHidden = false, HiddenToMemory = false, MemoryToMemory = false, HiddenToHidden = false, MemoryBias = false, HiddenBias = false };
        Check(Simulator, o, batch: 3, steps: 20, SimulatorTolerance);
    }

    [Test]
    public void Forward_MatchesDoubleReference_Euler_Host()
    {
        var o = Full(2, 8, 4, 1, 30) with { Discretizer = Discretizer.Euler };
        Check(Host, o, batch: 3, steps: 100, HostTolerance);
    }

    [Test]
    public void Forward_HostAndSimulatorAgree()
    {
        var o = Full(2, 7, 4, 2, 10);
        var w = CellReference.RandomWeights(o, 3);
        float[] x = CellReference.RandomInput(2 * 25 * 2, 4);
        using var a = new LmuCellLayer(Host, w, 2);
        using var b = new LmuCellLayer(Simulator, w, 2);
        float[] ha = a.Run(x, 25);
        float[] hb = b.Run(x, 25);
        Assert.That(CellReference.MaxAbsDiff(ha, CellReference.ToDouble(hb)), Is.LessThan(1e-5));
    }

    [Test]
    public void Run_ContinuesFromStreamingState_Host()
    {
        var o = Full(2, 8, 4, 1, 12);
        var w = CellReference.RandomWeights(o, 5);
        float[] x = CellReference.RandomInput(2 * 40 * 2, 6);
        using var whole = new LmuCellLayer(Host, w, 2);
        float[] all = whole.Run(x, 40);
        using var parts = new LmuCellLayer(Host, w, 2);
        var first = new float[2 * 20 * 2];
        var second = new float[2 * 20 * 2];
        for (int b = 0; b < 2; b++)
        {
            x.AsSpan(b * 80, 40).CopyTo(first.AsSpan(b * 40));
            x.AsSpan((b * 80) + 40, 40).CopyTo(second.AsSpan(b * 40));
        }

        parts.Run(first, 20);
        float[] h2 = parts.Run(second, 20);
        for (int b = 0; b < 2; b++)
        {
            Assert.That(CellReference.MaxAbsDiff(h2.AsSpan(b * 20 * 8, 20 * 8), CellReference.ToDouble(all.AsSpan((b * 40 * 8) + (20 * 8), 20 * 8))), Is.LessThan(1e-6));
        }

        parts.Reset();
        Assert.That(parts.GetHiddenState(), Is.All.EqualTo(0f));
    }

    [Test]
    public void Run_ThrowsForWrongInputLength()
    {
        using var layer = new LmuCellLayer(Host, CellReference.RandomWeights(Full(2, 4, 3, 1, 5), 1), 2);
        var e = Assert.Throws<ArgumentException>(() => layer.Run(new float[7], 2));
        Assert.That(e!.Message, Does.Contain("B·T·n_x"));
    }

    [Test]
    public void Run_ThrowsForNaNInput()
    {
        using var layer = new LmuCellLayer(Simulator, CellReference.RandomWeights(Full(1, 4, 3, 1, 5), 1), 1);
        var x = new float[3];
        x[1] = float.NaN;
        Assert.Throws<ArgumentException>(() => layer.Run(x, 3));
    }

    [Test]
    public void Options_ThrowForZeroUnits() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new LmuCellWeights(Full(1, 4, 3, 1, 5) with { Units = 0 }));

    [Test]
    public void ParameterCount_MatchesPaperPsmnist()
    {
        var o = new LmuCellOptions { InputSize = 1, Units = 212, Order = 256, Theta = 784 };
        Assert.That(o.TrainableParameterCount, Is.EqualTo(99_897));
    }
}
