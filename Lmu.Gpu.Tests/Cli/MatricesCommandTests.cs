using System.Globalization;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Cli;

[TestFixture]
[NonParallelizable]
public class MatricesCommandTests
{
    [TestCase(6, 10.0, 1.0, "zoh", Discretizer.ZeroOrderHold)]
    [TestCase(17, 123.5, 0.5, "zoh", Discretizer.ZeroOrderHold)]
    [TestCase(4, 50.0, 1.0, "euler", Discretizer.Euler)]
    public void RoundTrip_EqualsLmuSystemExactly(int order, double theta, double dt, string name, Discretizer discretizer)
    {
        var result = CliRunner.Run("matrices", "--order", order.ToString(CultureInfo.InvariantCulture),
            "--theta", theta.ToString("R", CultureInfo.InvariantCulture), "--dt", dt.ToString("R", CultureInfo.InvariantCulture),
            "--discretizer", name);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        var rows = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(',').Select(f => double.Parse(f, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        var system = LmuSystem.Create(order, theta, dt, discretizer);
        Assert.That(rows, Has.Length.EqualTo(order + 1));
        Assert.Multiple(() =>
        {
            Assert.That(rows.Take(order).SelectMany(r => r).ToArray(), Is.EqualTo(system.DiscreteA.ToArray()));
            Assert.That(rows[order], Is.EqualTo(system.DiscreteB.ToArray()));
        });
    }

    [Test]
    public void EulerInstability_ExitsOneAndNamesSmallestTheta()
    {
        string smallest = LmuSystem.MinimumStableEulerTheta(16).ToString("G4", CultureInfo.InvariantCulture);
        var result = CliRunner.Run("matrices", "--order", "16", "--theta", "20", "--discretizer", "euler");
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Output, Is.Empty);
            Assert.That(result.Error, Does.StartWith("lmu: ").And.Contain($"is about {smallest}"));
        });
    }
}
