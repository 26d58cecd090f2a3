using Lmu.Gpu.Kernels.Memory;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Scan;

/// <summary>
/// The host's <see cref="SequenceMethod.Auto"/> rule where three or more memories run at once: the sequential run steps
/// them in groups of eight, so once whole groups keep every core busy the scan's parallel chunks gain nothing forward,
/// and its adjoint does twice the work (measured 1.5–2.0× slower on two cores, docs/benchmarks/scan-cpu.md). The rule
/// is checked at a stated core count, so that these cases do not depend on the machine running the tests.
/// </summary>
[TestFixture]
public sealed class HostAutoRuleTests
{
    private LmuDevice _device = null!;

    [OneTimeSetUp]
    public void OpenDevice() => _device = LmuDevice.Open(AcceleratorKind.Cpu);

    [OneTimeTearDown]
    public void CloseDevice() => _device.Dispose();

    [TestCase(64, 16, 100_000, false, TestName = "Forward, B·k = 16 on two cores: one whole group per core, sequential")]
    [TestCase(256, 32, 2_000, false, TestName = "Forward, B·k = 32: two whole groups per core, sequential")]
    [TestCase(256, 24, 1_000, false, TestName = "Forward, B·k = 24, T ≤ L: one chunk per sequence, the same three groups, sequential")]
    [TestCase(64, 24, 10_000, true, TestName = "Forward, B·k = 24: three groups leave a core idle half the time, scan")]
    [TestCase(64, 12, 10_000, true, TestName = "Forward, B·k = 12: the second group is half empty, scan")]
    [TestCase(64, 8, 10_000, true, TestName = "Forward, B·k = 8: one group on one core, scan")]
    [TestCase(256, 6, 2_000, true, TestName = "Forward, B·k = 6, T = 2,000: under four chunks of 512, yet scan")]
    [TestCase(64, 8, 100, false, TestName = "Forward, too small to go parallel: the measured thresholds, sequential")]
    [TestCase(64, 2, 100_000, true, TestName = "Forward, B·k = 2, stepped one at a time: the measured thresholds, scan")]
    public void Forward_OnTwoCores(int order, int memories, int steps, bool scan) =>
        Assert.That(HostAutoRule.PrefersScan(order, memories, steps, HostAutoRule.ForwardScanCost, processors: 2), Is.EqualTo(scan));

    [TestCase(64, 16, 100_000, false)]
    [TestCase(64, 24, 10_000, false)]
    [TestCase(64, 12, 10_000, false)]
    [TestCase(256, 12, 2_000, false)]
    [TestCase(64, 8, 10_000, false)]
    [TestCase(256, 8, 2_000, false)]
    [TestCase(256, 6, 2_000, false)]
    [TestCase(64, 4, 10_000, true)]
    [TestCase(64, 3, 10_000, true)]
    public void Adjoint_OnTwoCores(int order, int memories, int steps, bool scan) =>
        Assert.That(HostAutoRule.PrefersScan(order, memories, steps, HostAutoRule.AdjointScanCost, processors: 2), Is.EqualTo(scan));

    [Test]
    public void GroupSteps_CountWholeGroupsPerCore()
    {
        // B·k = 24, T = 10,000, d = 64 on two cores: three groups → two rounds of T; the scan's chunk rule gives L = 1,024,
        // C = 10, 240 chunks in 30 groups → 15 rounds of L.
        var (sequential, scan) = HostAutoRule.GroupSteps(64, 24, 10_000, 1.0, 2);
        Assert.Multiple(() =>
        {
            Assert.That(sequential, Is.EqualTo(20_000));
            Assert.That(scan, Is.EqualTo(15 * 1_024));
            Assert.That(HostAutoRule.GroupSteps(64, 24, 10_000, 2.0, 2).Scan, Is.EqualTo(2 * 15 * 1_024));
        });
    }

    [Test]
    public void Rule_TakesTheScanWhereTheGroupsCannotFillTheCores()
    {
        Assert.Multiple(() =>
        {
            // Sixteen cores: two groups of eight leave fourteen idle; the scan's chunks fill them, even for the adjoint.
            Assert.That(HostAutoRule.PrefersScan(64, 16, 100_000, HostAutoRule.AdjointScanCost, processors: 16), Is.True);
            // Sixteen whole groups on sixteen cores: sequential.
            Assert.That(HostAutoRule.PrefersScan(64, 128, 100_000, HostAutoRule.ForwardScanCost, processors: 16), Is.False);
        });
    }

    [Test]
    public void ResolveAuto_FollowsTheRuleAtThisMachinesCores([Values(1, 8, 16, 24, 64)] int batch)
    {
        const int order = 64, steps = 10_000;
        using var memory = new LinearMemory(_device, LmuSystem.Create(order, 1_000), batch);
        int cores = Environment.ProcessorCount;
        bool forward = HostAutoRule.PrefersScan(order, batch, steps, HostAutoRule.ForwardScanCost, cores);
        bool adjoint = HostAutoRule.PrefersScan(order, batch, steps, HostAutoRule.AdjointScanCost, cores);
        Assert.Multiple(() =>
        {
            Assert.That(memory.ResolveAuto(steps), Is.EqualTo(forward ? SequenceMethod.Scan : SequenceMethod.Sequential));
            Assert.That(memory.ResolveAutoAdjoint(steps), Is.EqualTo(adjoint ? SequenceMethod.Scan : SequenceMethod.Sequential));
            Assert.That(memory.Engine.PrefersScan(steps, MemoryOutputMode.Decoded), Is.EqualTo(forward), "decoded as all states");
            Assert.That(memory.Engine.PrefersScan(steps, MemoryOutputMode.FinalOnly), Is.True, "final-only keeps the scan");
        });
    }

    [Test]
    public void ResolveAutoAdjoint_ThrowsForZeroStepsAndAfterDispose()
    {
        var memory = new LinearMemory(_device, LmuSystem.Create(4, 10));
        Assert.That(() => memory.ResolveAutoAdjoint(0), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("steps"));
        memory.Dispose();
        Assert.That(() => memory.ResolveAutoAdjoint(10), Throws.TypeOf<ObjectDisposedException>());
        Assert.That(() => memory.ResolveAuto(10), Throws.TypeOf<ObjectDisposedException>());
    }
}
