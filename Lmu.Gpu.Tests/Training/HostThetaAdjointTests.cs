using Lmu.Gpu.Training;

namespace Lmu.Gpu.Tests.Training;

/// <summary>
/// The host's sequential adjoint with the θ gradient in groups of eight memories (<see cref="HostSequence.Adjoint"/> with <see cref="HostThetaTerms"/>)
/// against the one-memory-at-a-time path it replaces, through whole training gradients of a feedforward LMU layer
/// with a trainable θ: zero-order hold and Euler, a ragged second group (B·k = 10), every parameter including θ.
/// Its agreement with finite differences is <c>GradientCheckTests</c> (FeedforwardTrainableTheta,
/// FeedforwardIntoCellEuler).
/// </summary>
[TestFixture]
[NonParallelizable] // sets HostMemoryEngine.ForceOneAtATime
public sealed class HostThetaAdjointTests
{
    [TestCase(Discretizer.ZeroOrderHold)]
    [TestCase(Discretizer.Euler)]
    public void Gradients_InGroups_MatchOneAtATime(Discretizer discretizer)
    {
        const int count = 5, steps = 37;
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        using var model = new LmuModel(device, 2, returnSequences: true, seed: 11) { SequenceMethod = SequenceMethod.Sequential }
            .AddFeedforwardLmu(new FeedforwardLmuOptions
            {
                InputSize = 2, Units = 5, Order = 12, Theta = discretizer == Discretizer.Euler ? 25 : 9, MemoryChannels = 2, MemoryBias = true, Activation = Activation.Tanh,
                TrainableTheta = true, Discretizer = discretizer, Dt = discretizer == Discretizer.Euler ? 0.5 : 1.0,
            })
            .AddDense(2);
        float[] p = model.ParametersWithNoise(seed: 4, width: 0.5);
        var rng = new Random(8);
        float[] x = Enumerable.Range(0, count * steps * 2).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
        float[] y = Enumerable.Range(0, count * steps * 2).Select(i => (float)Math.Cos(0.2 * i)).ToArray();
        var data = SequenceDataset.ForRegression(x, y, count, steps, 2, 2, sequenceTargets: true);
        int theta = model.Layers.OfType<FeedforwardModelLayer>().Single().ThetaIndex;

        float[] Gradients()
        {
            model.SetParameters(p);
            var grad = new float[p.Length];
            model.ComputeGradients(data, Enumerable.Range(0, count).ToArray(), count, grad);
            return grad;
        }

        float[] grouped = Gradients();
        HostMemoryEngine.ForceOneAtATime = true;
        float[] single;
        try
        {
            single = Gradients();
        }
        finally
        {
            HostMemoryEngine.ForceOneAtATime = false;
        }

        double scale = single.Max(Math.Abs);
        double worst = grouped.Zip(single, (a, b) => Math.Abs(a - b)).Max();
        Assert.Multiple(() =>
        {
            Assert.That(single[theta], Is.Not.EqualTo(0f), "θ has a gradient");
            Assert.That(grouped[theta], Is.EqualTo(single[theta]).Within(1e-5 * Math.Abs(single[theta])), "θ");
            Assert.That(worst, Is.LessThanOrEqualTo(1e-5 * scale), $"max |Δg| = {worst:E2}, max |g| = {scale:E2}");
        });
    }
}
