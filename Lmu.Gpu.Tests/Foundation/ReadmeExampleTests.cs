using ILGPU.Runtime;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Foundation;

/// <summary>The README's C# example, verbatim apart from the device (the host path, and the CPU simulator for the part
/// on device views), so that it keeps compiling and running.</summary>
[TestFixture]
public class ReadmeExampleTests
{
    [Test]
    public void ReadmeExample_Runs()
    {
        // ZOH-discretised memory of order 12 with a window of 1000 steps (dt = 1).
        var system = LmuSystem.Create(order: 12, theta: 1000);

        using var device = LmuDevice.Open("cpu");
        using var memory = new LinearMemory(device, system, batch: 4, channels: 2);

        // Streaming: one row of B·k inputs per step.
        memory.Step(new float[4 * 2]);
        float[] states = memory.GetStates();                  // [B, k, d]

        // Whole sequences: inputs [B, T, k] → decoded u(t − r·θ) for r = 1 and 0.5, shape [B, T, k, 2].
        int steps = 5000;
        float[] input = new float[4 * steps * 2];
        float[] delayed = memory.RunDecoded(input, steps, [1.0, 0.5]);
        float[] final = memory.RunFinalState(input, steps);   // [B, k, d], no T-long output

        // Backpropagation through the memory (θ fixed): ∂L/∂u and ∂L/∂m₀ from ∂L/∂m_t, without the T-long λ that RunAdjoint returns.
        float[] stateGradients = new float[4 * steps * 2 * 12];   // [B, T, k, d]
        var grads = memory.RunInputGradient(stateGradients, steps);   // grads.InputGradient [B, T, k], grads.InitialStateGradient [B, k, d]

        Assert.Multiple(() =>
        {
            Assert.That(states, Has.Length.EqualTo(4 * 2 * 12));
            Assert.That(delayed, Has.Length.EqualTo(4 * steps * 2 * 2));
            Assert.That(final, Has.Length.EqualTo(4 * 2 * 12));
            Assert.That(grads.InputGradient, Has.Length.EqualTo(4 * steps * 2));
            Assert.That(grads.InitialStateGradient, Has.Length.EqualTo(4 * 2 * 12));
        });
    }

    [Test]
    public void ReadmeExample_DeviceViews_Run()
    {
        var system = LmuSystem.Create(order: 12, theta: 1000);
        using var device = LmuDevice.Open("cpu-sim");
        using var memory = new LinearMemory(device, system, batch: 4, channels: 2);
        int steps = 5000;
        float[] input = new float[4 * steps * 2];

        // On a device, data can stay in device memory: the same runs take ILGPU views of the memory's accelerator.
        if (!device.IsHost)
        {
            using var u = device.Accelerator.Allocate1D(input);                    // [B, T, k]
            using var m = device.Accelerator.Allocate1D<float>(4L * steps * 2 * 12); // [B, T, k, d]
            memory.RunStates(u.View, steps, m.View, SequenceMethod.Scan);           // no host transfer of the states
            memory.ReleaseScratch();  // the scan keeps its device scratch for the next run; this frees it now
            Assert.That(m.GetAsArray1D(), Has.All.EqualTo(0f), "zero input from zero states");
        }

        Assert.That(device.IsHost, Is.False);
    }
}
