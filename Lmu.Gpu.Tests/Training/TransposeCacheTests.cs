using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Training;

/// <summary>The host path's kept weight transposes (<see cref="TransposeCache"/>): made once while the weights are
/// unchanged, made again after any write through the backend, and never seen stale by a model.</summary>
[TestFixture]
public sealed class TransposeCacheTests
{
    [Test]
    public void Get_Transposes_ThenKeepsUntilTheTensorIsWritten()
    {
        using var backend = new HostBackend();
        var weights = backend.Upload([1, 2, 3, 4, 5, 6], "w"); // 2 × 3
        var cache = new TransposeCache();
        float[] first = cache.Get(weights.All, 2, 3);
        Assert.That(first, Is.EqualTo(new float[] { 1, 4, 2, 5, 3, 6 }));
        Assert.That(cache.Get(weights.All, 2, 3), Is.SameAs(first), "unchanged weights: the same transpose");

        backend.Upload(weights.Sub(0, 1), [10]);
        float[] second = cache.Get(weights.All, 2, 3);
        Assert.That(second, Is.EqualTo(new float[] { 10, 4, 2, 5, 3, 6 }), "remade after an upload");

        backend.Sgd(weights.All, backend.Upload([1, 1, 1, 1, 1, 1], "g").All, 1f);
        Assert.That(cache.Get(weights.All, 2, 3), Is.EqualTo(new float[] { 9, 3, 1, 4, 2, 5 }), "remade after an optimiser step");

        backend.Clear(weights.All);
        Assert.That(cache.Get(weights.All, 2, 3), Is.All.Zero, "remade after a clear");
    }

    [Test]
    public void Get_KeysByOffsetAndShape()
    {
        using var backend = new HostBackend();
        var weights = backend.Upload([1, 2, 3, 4, 5, 6, 7, 8], "w");
        var cache = new TransposeCache();
        Assert.Multiple(() =>
        {
            Assert.That(cache.Get(weights.Sub(0, 4), 2, 2), Is.EqualTo(new float[] { 1, 3, 2, 4 }));
            Assert.That(cache.Get(weights.Sub(4, 4), 2, 2), Is.EqualTo(new float[] { 5, 7, 6, 8 }));
            Assert.That(cache.Get(weights.Sub(0, 4), 1, 4), Is.EqualTo(new float[] { 1, 2, 3, 4 }));
        });
    }

    [Test]
    public void Get_KeepsOneEntryPerPlace_WhateverItsShape()
    {
        using var backend = new HostBackend();
        var weights = backend.Upload([1, 2, 3, 4, 5, 6], "w");
        var cache = new TransposeCache();
        Assert.That(cache.Get(weights.All, 2, 3), Is.EqualTo(new float[] { 1, 4, 2, 5, 3, 6 }));
        Assert.That(cache.Get(weights.All, 3, 2), Is.EqualTo(new float[] { 1, 3, 5, 2, 4, 6 }), "another shape at the same place is remade");
        cache.Get(weights.Sub(0, 4), 2, 2);
        cache.Get(weights.Sub(0, 2), 1, 2);
        Assert.That(cache.TotalValues, Is.EqualTo(2), "one entry for the place, the last shape's");
    }

    [Test]
    public void Model_FollowsNewWeights_InPredictAndStreams()
    {
        using var host = LmuDevice.Open(AcceleratorKind.Cpu);
        static LmuModel Build(LmuDevice device) => new LmuModel(device, 2, returnSequences: true, seed: 2)
            .AddLmu(new LmuCellOptions { InputSize = 2, Units = 20, Order = 6, Theta = 5 })
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 20, Units = 24, Order = 4, Theta = 7 })
            .AddDense(17);
        using var model = Build(host);
        var x = new float[3 * 10 * 2];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = MathF.Sin(i * 0.7f);
        }

        using var stream = model.OpenStream(3);
        float[] before = model.Predict(x, 3, 10);
        stream.Run(x, 10);

        float[] changed = model.ParametersWithNoise(seed: 4, width: 0.5);
        model.SetParameters(changed);
        using var fresh = Build(host);
        fresh.SetParameters(changed);
        float[] expected = fresh.Predict(x, 3, 10);
        stream.Reset();
        Assert.Multiple(() =>
        {
            Assert.That(model.Predict(x, 3, 10), Is.EqualTo(expected), "Predict after SetParameters");
            Assert.That(stream.Run(x, 10), Is.EqualTo(expected), "a stream after SetParameters");
            Assert.That(expected, Is.Not.EqualTo(before));
        });
    }
}
