using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Tests.Scan;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Memory;

/// <summary>
/// <see cref="LinearMemory"/>'s overloads on ILGPU views (data that stays on the device), on the CPU simulator: each
/// against its span overload on a second memory with the same states (the span overloads are checked against the
/// double reference elsewhere). Same kernels on both sides, so they agree to 1e-6 of the largest value; the outputs are
/// pre-filled with NaN to show that every value is written.
/// </summary>
[TestFixture]
public sealed class DeviceViewTests : SimulatorAndHostFixture
{
    private const int Order = 6;
    private const int Batch = 2;
    private const int Channels = 2;
    private const int Steps = 150;
    private LmuDevice _other = null!;

    [OneTimeSetUp]
    public void OpenDevices()
    {
        _other = LmuDevice.Open(AcceleratorKind.CpuSimulator);
    }

    [OneTimeTearDown]
    public void CloseDevices()
    {
        _other.Dispose();
    }

    private (LinearMemory Views, LinearMemory Spans) Pair(int chunk)
    {
        var system = LmuSystem.Create(Order, 20);
        var views = new LinearMemory(Simulator, system, Batch, Channels) { ChunkLength = chunk };
        var spans = new LinearMemory(Simulator, system, Batch, Channels) { ChunkLength = chunk };
        float[] start = ScanTestData.Uniform(views.StateLength, 3);
        views.SetStates(start);
        spans.SetStates(start);
        return (views, spans);
    }

    private MemoryBuffer1D<float, Stride1D.Dense> Upload(float[] values) => Simulator.Accelerator.Allocate1D(values);

    private MemoryBuffer1D<float, Stride1D.Dense> NaNs(long length, LmuDevice? device = null) =>
        (device ?? Simulator).Accelerator.Allocate1D(Enumerable.Repeat(float.NaN, (int)length).ToArray());

    private static void AssertClose(float[] actual, float[] expected, string what)
    {
        Assert.That(actual.All(float.IsFinite), Is.True, $"{what}: every value written");
        Assert.That(ScanTestData.RelativeMaxError(actual, expected), Is.LessThanOrEqualTo(1e-6), what);
    }

    [Test]
    public void RunStates_MatchesSpanOverload([Values] SequenceMethod method)
    {
        var (views, spans) = Pair(chunk: 16);
        using (views)
        using (spans)
        {
            float[] u = ScanTestData.Uniform((long)Batch * Steps * Channels, 5);
            using var input = Upload(u);
            using var states = NaNs((long)Batch * Steps * Channels * Order);
            views.RunStates(input.View, Steps, states.View, method);
            AssertClose(states.GetAsArray1D(), spans.RunStates(u, Steps, method), "states");
            AssertClose(views.GetStates(), spans.GetStates(), "final states");
        }
    }

    [Test]
    public void RunDecoded_MatchesSpanOverload([Values(SequenceMethod.Sequential, SequenceMethod.Scan)] SequenceMethod method)
    {
        var (views, spans) = Pair(chunk: 16);
        using (views)
        using (spans)
        {
            double[] delays = [1.0, 0.25];
            float[] u = ScanTestData.Uniform((long)Batch * Steps * Channels, 6);
            using var input = Upload(u);
            using var output = NaNs((long)Batch * Steps * Channels * delays.Length);
            views.RunDecoded(input.View, Steps, delays, output.View, method);
            AssertClose(output.GetAsArray1D(), spans.RunDecoded(u, Steps, delays, method), "decoded");
        }
    }

    [Test]
    public void RunFinalState_MatchesSpanOverload([Values(SequenceMethod.Sequential, SequenceMethod.Scan)] SequenceMethod method)
    {
        var (views, spans) = Pair(chunk: 16);
        using (views)
        using (spans)
        {
            float[] u = ScanTestData.Uniform((long)Batch * Steps * Channels, 7);
            using var input = Upload(u);
            views.RunFinalState(input.View, Steps, method);
            AssertClose(views.GetStates(), spans.RunFinalState(u, Steps, method), "final states");
        }
    }

    [Test]
    public void RunAdjoint_MatchesSpanOverload([Values(SequenceMethod.Sequential, SequenceMethod.Scan)] SequenceMethod method)
    {
        var (views, spans) = Pair(chunk: 16);
        using (views)
        using (spans)
        {
            long all = (long)Batch * Steps * Channels * Order;
            float[] g = ScanTestData.Uniform(all, 8);
            using var gradients = Upload(g);
            using var lambda = NaNs(all);
            using var du = NaNs((long)Batch * Steps * Channels);
            using var dm = NaNs(views.StateLength);
            views.RunAdjoint(gradients.View, Steps, lambda.View, du.View, dm.View, method);
            var expected = spans.RunAdjoint(g, Steps, method);
            AssertClose(lambda.GetAsArray1D(), expected.Lambda, "λ");
            AssertClose(du.GetAsArray1D(), expected.InputGradient, "B̄ᵀλ");
            AssertClose(dm.GetAsArray1D(), expected.InitialStateGradient, "Āᵀλ_0");
        }
    }

    [Test]
    public void StepAndStates_MatchSpanOverloads()
    {
        var (views, spans) = Pair(chunk: 0);
        using (views)
        using (spans)
        {
            float[] start = ScanTestData.Uniform(views.StateLength, 11);
            using var states = Upload(start);
            views.SetStates(states.View);
            spans.SetStates(start);
            for (int t = 0; t < 5; t++)
            {
                float[] u = ScanTestData.Uniform(Batch * Channels, 20 + t);
                using var input = Upload(u);
                views.Step(input.View);
                spans.Step(u);
            }

            using var read = NaNs(views.StateLength);
            views.GetStates(read.View);
            AssertClose(read.GetAsArray1D(), spans.GetStates(), "states after five steps");
            AssertClose(views.GetStates(), spans.GetStates(), "the same states read to the host");
        }
    }

    [Test]
    public void Step_ThrowsForWrongLength()
    {
        var (views, spans) = Pair(chunk: 0);
        using (views)
        using (spans)
        {
            float[] before = views.GetStates();
            using var input = Upload(new float[Batch * Channels + 1]);
            var ex = Assert.Throws<ArgumentException>(() => views.Step(input.View));
            Assert.That(ex!.ParamName, Is.EqualTo("input"));
            Assert.That(views.GetStates(), Is.EqualTo(before), "states unchanged");
            using var shortStates = NaNs(views.StateLength - 1);
            Assert.That(Assert.Throws<ArgumentException>(() => views.SetStates(shortStates.View))!.ParamName, Is.EqualTo("states"));
            Assert.That(Assert.Throws<ArgumentException>(() => views.GetStates(shortStates.View))!.ParamName, Is.EqualTo("destination"));
        }
    }

    [Test]
    public void RunStates_ThrowsForHostPath()
    {
        using var memory = new LinearMemory(Host, LmuSystem.Create(Order, 20));
        using var input = Upload(new float[10]);
        using var states = NaNs(10 * Order);
        var ex = Assert.Throws<InvalidOperationException>(() => memory.RunStates(input.View, 10, states.View));
        Assert.That(ex!.Message, Does.Contain("span overloads"));
    }

    [Test]
    public void RunStates_ThrowsForWrongLength()
    {
        var (views, spans) = Pair(chunk: 0);
        using (views)
        using (spans)
        {
            using var input = Upload(new float[Batch * Steps * Channels]);
            using var states = NaNs((long)Batch * Steps * Channels * Order - 1);
            var ex = Assert.Throws<ArgumentException>(() => views.RunStates(input.View, Steps, states.View));
            Assert.That(ex!.ParamName, Is.EqualTo("states"));
            Assert.That(states.GetAsArray1D().All(float.IsNaN), Is.True, "nothing written");
        }
    }

    [Test]
    public void RunStates_ThrowsForViewOfAnotherAccelerator()
    {
        var (views, spans) = Pair(chunk: 0);
        using (views)
        using (spans)
        {
            using var input = _other.Accelerator.Allocate1D<float>(Batch * Steps * Channels);
            using var states = NaNs((long)Batch * Steps * Channels * Order);
            var ex = Assert.Throws<ArgumentException>(() => views.RunStates(input.View, Steps, states.View));
            Assert.That(ex!.ParamName, Is.EqualTo("input"));
            Assert.That(ex.Message, Does.Contain("another accelerator"));
        }
    }

    [Test]
    public void RunAdjoint_ThrowsForOverlappingViews()
    {
        var (views, spans) = Pair(chunk: 0);
        using (views)
        using (spans)
        {
            long all = (long)Batch * Steps * Channels * Order;
            using var shared = NaNs(2 * all);
            using var du = NaNs((long)Batch * Steps * Channels);
            using var dm = NaNs(views.StateLength);
            var ex = Assert.Throws<ArgumentException>(() =>
                views.RunAdjoint(shared.View.SubView(0, all), Steps, shared.View.SubView(all - 1, all), du.View, dm.View));
            Assert.That(ex!.Message, Does.Contain("overlap"));

            // Separate halves of one buffer are fine.
            var g = shared.View.SubView(0, all);
            g.CopyFromCPU(ScanTestData.Uniform(all, 9));
            views.RunAdjoint(g, Steps, shared.View.SubView(all, all), du.View, dm.View);
            Assert.That(du.GetAsArray1D().All(float.IsFinite), Is.True);
        }
    }

    [Test]
    public void RunStates_ThrowsForStepsBelowOneAndUnknownMethod()
    {
        var (views, spans) = Pair(chunk: 0);
        using (views)
        using (spans)
        {
            using var input = Upload(new float[4]);
            using var states = NaNs(4 * Order);
            Assert.Throws<ArgumentOutOfRangeException>(() => views.RunStates(input.View, 0, states.View));
            Assert.Throws<ArgumentOutOfRangeException>(() => views.RunStates(input.View, 1, states.View, (SequenceMethod)9));
        }
    }
}
