using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Training;

/// <summary>Dropout (<see cref="LmuModel.AddDropout"/>): the mask's rate and scale, its backward pass as the adjoint
/// of its forward pass, the same mask on the host and the CPU simulator, training that uses it, inference that
/// does not, and the weights file.</summary>
[TestFixture]
public sealed class DropoutTests : SimulatorAndHostFixture
{
    private static DropoutModelLayer Layer(double rate, bool training, uint step = 7) =>
        new(width: 5, rate, isSequence: true, seed: 0x1234_5678_9abcUL) { Mode = (training, step) };

    private static float[] Values(int length, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
    }

    private static float[] Apply(Backend backend, DropoutModelLayer layer, float[] x, bool backward)
    {
        using var input = backend.Upload(x, "x");
        using var output = backend.Allocate(x.Length, "y");
        if (backward)
        {
            layer.Backward(backend, default, default, default, default, input.All, output.All, 1, x.Length / 5);
        }
        else
        {
            layer.Forward(backend, default, input.All, output.All, 1, x.Length / 5);
        }

        backend.Synchronize();
        return backend.Download(output.All);
    }

    [Test]
    public void Forward_DropsAboutTheRate_AndScalesTheRest()
    {
        using var backend = new HostBackend();
        float[] ones = Enumerable.Repeat(1f, 20_000).ToArray();
        float[] y = Apply(backend, Layer(0.3, training: true), ones, backward: false);
        double dropped = y.Count(v => v == 0) / (double)y.Length;
        Assert.Multiple(() =>
        {
            // Binomial: standard deviation √(0.21 / 20,000) ≈ 0.0032; allow five.
            Assert.That(dropped, Is.EqualTo(0.3).Within(0.016));
            Assert.That(y.Where(v => v != 0), Is.All.EqualTo(1 / 0.7f));
            Assert.That(Apply(backend, Layer(0.3, training: true, step: 8), ones, backward: false), Is.Not.EqualTo(y), "a new mask at the next step");
            Assert.That(Apply(backend, Layer(0.3, training: false), ones, backward: false), Is.EqualTo(ones), "inference passes values through");
        });
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Backward_IsTheForwardsAdjoint_AndTheSimulatorDropsTheSameValues(bool simulator)
    {
        using var host = new HostBackend();
        using var device = Backend.For(simulator ? Simulator : Host);
        var layer = Layer(0.4, training: true);
        float[] x = Values(600, 1);
        float[] g = Values(600, 2);
        float[] y = Apply(device, layer, x, backward: false);
        float[] dx = Apply(device, layer, g, backward: true);
        double left = y.Zip(g).Sum(p => (double)p.First * p.Second);
        double right = x.Zip(dx).Sum(p => (double)p.First * p.Second);
        Assert.Multiple(() =>
        {
            Assert.That(left, Is.EqualTo(right).Within(1e-6 * Math.Max(1, Math.Abs(left))), "⟨M·x, g⟩ = ⟨x, M·g⟩ (the scaled values rounded to float32)");
            Assert.That(y, Is.EqualTo(Apply(host, layer, x, backward: false)), "the host's mask");
        });
    }

    private static LmuModel Model(LmuDevice device, bool dropout)
    {
        var model = new LmuModel(device, 1, returnSequences: true, seed: 5)
            .AddLmu(new LmuCellOptions { InputSize = 1, Units = 6, Order = 3, Theta = 5, HiddenBias = true });
        if (dropout)
        {
            model.AddDropout(0.25);
        }

        model.AddDense(4, Activation.Tanh);
        if (dropout)
        {
            model.AddDropout(0.1);
        }

        return model.AddDense(1);
    }

    private static SequenceDataset Data()
    {
        var rng = new Random(4);
        var x = Enumerable.Range(0, 8 * 10).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var y = x.Select((v, i) => i % 10 >= 2 ? x[i - 2] : 0f).ToArray();
        return SequenceDataset.ForRegression(x, y, 8, 10, 1, 1, sequenceTargets: true);
    }

    [Test]
    public void Training_UsesTheMasks_OnHostAndSimulatorAlike_AndInferencePassesThrough()
    {
        var data = Data();
        var options = new FitOptions { Epochs = 2, BatchSize = 4, LearningRate = 1e-2, Seed = 3 };
        using var host = Model(Host, dropout: true);
        using var simulator = Model(Simulator, dropout: true);
        using var plain = Model(Host, dropout: false);
        Assert.That(host.GetParameters(), Is.EqualTo(plain.GetParameters()), "dropout has no parameters and takes no random draws");
        host.Fit(data, options);
        simulator.Fit(data, options);
        plain.Fit(data, options);
        float[] trained = host.GetParameters();
        Assert.Multiple(() =>
        {
            Assert.That(simulator.GetParameters(), Is.EqualTo(trained).Within(1e-4), "the same masks on the simulator");
            Assert.That(plain.GetParameters(), Is.Not.EqualTo(trained).Within(1e-4), "dropout changed the training");
        });

        // Inference: the model without dropout and the same weights predicts the same.
        plain.SetParameters(trained);
        Assert.That(host.Predict(data.Inputs, data.Count, data.Steps), Is.EqualTo(plain.Predict(data.Inputs, data.Count, data.Steps)));
    }

    [Test]
    public void SaveAndLoad_KeepTheDropoutLayers()
    {
        string path = Path.Combine(Path.GetTempPath(), $"lmu-dropout-{Guid.NewGuid():N}.lmuw");
        try
        {
            using var model = Model(Host, dropout: true);
            model.Save(path);
            using var loaded = LmuModel.Load(Host, path);
            Assert.That(loaded.Summary(), Is.EqualTo(model.Summary()));
            Assert.That(loaded.Summary(), Does.Contain("Dropout: 6 rate=0.25 (sequence)").And.Contain("Dropout: 4 rate=0.1 (head)"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestCase(1.0)]
    [TestCase(-0.1)]
    [TestCase(double.NaN)]
    public void AddDropout_ThrowsForARateOutside0To1(double rate)
    {
        using var model = new LmuModel(Host, 1);
        Assert.That(() => model.AddDropout(rate), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("rate"));
    }
}
