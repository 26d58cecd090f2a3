using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu;

namespace Lmu.Spiking;

/// <summary>What every population of independent neurons shares: its device, the per-neuron spike counts (a host array
/// on the <c>cpu</c> path, a device buffer elsewhere), the step counter, and disposal.</summary>
/// <remarks>Not thread-safe: a population's counts and step counter belong to one thread at a time (populations on one
/// device may run on different threads).</remarks>
public abstract class NeuronPopulation : IDisposable
{
    private protected NeuronPopulation(LmuDevice device, long neurons)
    {
        Device = device;
        Neurons = neurons;
    }

    /// <summary>The number of neurons.</summary>
    public long Neurons { get; }

    /// <summary>The number of steps simulated so far.</summary>
    public long Step { get; private protected set; }

    /// <summary>True once disposed.</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>The device the population runs on.</summary>
    private protected LmuDevice Device { get; }

    /// <summary>The counts on the host path, else null.</summary>
    private protected abstract uint[]? HostCounts { get; }

    /// <summary>The counts on a device, else null.</summary>
    private protected abstract MemoryBuffer1D<uint, Stride1D.Dense>? DeviceCounts { get; }

    /// <summary>Queues <paramref name="steps"/> steps from <paramref name="step0"/> as launches of a neuron kernel (a
    /// grid-stride loop over <paramref name="threads"/>), each of at most <paramref name="workLimit"/> thread-steps so
    /// that no count passes 2^32 within a launch's arithmetic.</summary>
    /// <param name="threads">Threads' worth of work: blocks of four neurons, or neurons.</param>
    /// <param name="step0">The first step.</param>
    /// <param name="steps">Steps to run.</param>
    /// <param name="workLimit">The most thread-steps per launch.</param>
    /// <param name="launch">One launch: (configuration, its first step, its steps).</param>
    private protected void LaunchSteps(long threads, int step0, int steps, long workLimit, Action<KernelConfig, int, int> launch)
    {
        var accelerator = Device.Accelerator;
        int group = Math.Min(accelerator.MaxNumThreadsPerGroup, 256);
        long maxGroups = Math.Max(1, (long)accelerator.NumMultiprocessors * Math.Max(1, accelerator.MaxNumThreadsPerMultiprocessor / group) * 8);
        var config = new KernelConfig((int)Math.Min((threads + group - 1) / group, maxGroups), group);
        int perLaunch = (int)Math.Max(1, Math.Min(steps, workLimit / threads));
        for (int done = 0; done < steps; done += perLaunch)
        {
            launch(config, step0 + done, Math.Min(perLaunch, steps - done));
        }
    }

    /// <summary>Simulates <paramref name="steps"/> more steps, adding the spikes to the per-neuron counts. On a device
    /// the call returns once the work is queued; <see cref="GetCounts"/> synchronises.</summary>
    /// <param name="steps">The number of steps, ≥ 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">steps is negative or the step counter would pass 2^32.</exception>
    /// <exception cref="ObjectDisposedException">The population was disposed.</exception>
    public void Run(int steps)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        SpikingValidation.Steps(steps, Step);
        if (steps == 0)
        {
            return;
        }

        if (Device.IsHost)
        {
            RunHost((uint)Step, steps);
        }
        else
        {
            RunDevice((int)Step, steps);
        }

        Step += steps;
    }

    /// <summary>Steps <paramref name="step0"/> … on the host path (arguments checked).</summary>
    /// <param name="step0">The first step.</param>
    /// <param name="steps">The number of steps, ≥ 1.</param>
    private protected abstract void RunHost(uint step0, int steps);

    /// <summary>Steps <paramref name="step0"/> … queued on the device (arguments checked).</summary>
    /// <param name="step0">The first step.</param>
    /// <param name="steps">The number of steps, ≥ 1.</param>
    private protected abstract void RunDevice(int step0, int steps);

    /// <summary>Copies the per-neuron spike counts to the host.</summary>
    /// <returns>The counts, in neuron order.</returns>
    /// <exception cref="ObjectDisposedException">The population was disposed.</exception>
    public uint[] GetCounts()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (HostCounts is { } counts)
        {
            return (uint[])counts.Clone();
        }

        Device.Accelerator.Synchronize();
        return DeviceCounts!.GetAsArray1D();
    }

    /// <summary>Waits for queued device work (no-op on the host path).</summary>
    public void Synchronize()
    {
        if (!IsDisposed && !Device.IsHost)
        {
            Device.Accelerator.Synchronize();
        }
    }

    /// <summary>The total number of spikes so far.</summary>
    /// <returns>The sum of the counts.</returns>
    /// <exception cref="ObjectDisposedException">The population was disposed.</exception>
    public long TotalSpikes()
    {
        long total = 0;
        foreach (uint c in GetCounts())
        {
            total += c;
        }

        return total;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (IsDisposed)
        {
            return;
        }

        IsDisposed = true;
        DisposeBuffers();
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the population's device buffers (called once, from <see cref="Dispose"/>).</summary>
    private protected abstract void DisposeBuffers();
}
