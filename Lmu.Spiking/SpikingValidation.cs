namespace Lmu.Spiking;

/// <summary>Argument checks shared by the spiking API; all run on the host before any kernel.</summary>
internal static class SpikingValidation
{
    public static void TimeStep(double dt, string name = "dt")
    {
        if (!(dt > 0) || double.IsInfinity(dt) || dt > 1)
        {
            throw new ArgumentOutOfRangeException(name, dt, "dt must be a finite number of seconds in (0, 1].");
        }
    }

    public static void TimeConstant(double tau, double dt, string name)
    {
        if (!(tau > 0) || double.IsInfinity(tau))
        {
            throw new ArgumentOutOfRangeException(name, tau, $"{name} must be a finite number of seconds > 0.");
        }

        if (dt >= tau)
        {
            throw new ArgumentOutOfRangeException(name, tau, $"{name} = {tau:G4} s must be larger than dt = {dt:G4} s.");
        }
    }

    public static void Rate(double rate, string name = "rate")
    {
        if (!(rate >= 0) || double.IsInfinity(rate))
        {
            throw new ArgumentOutOfRangeException(name, rate, "A rate must be a finite number of Hz ≥ 0 (not negative, not NaN).");
        }
    }

    public static void Steps(int steps, long done)
    {
        if (steps < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), steps, "The number of steps must be ≥ 0.");
        }

        if (done + steps > uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), steps, "The step counter would pass 2^32 (the Philox counter word).");
        }
    }

    /// <summary>Checks a neuron count against the index types and the memory of the host or the accelerator.</summary>
    public static void Neurons(long neurons, long bytesPerNeuron, Gpu.LmuDevice device, string name = "neurons")
    {
        if (neurons < 1)
        {
            throw new ArgumentOutOfRangeException(name, neurons, "The number of neurons must be ≥ 1.");
        }

        long maxIndex = device.IsHost ? Array.MaxLength : long.MaxValue / 16;
        if (neurons > maxIndex)
        {
            throw new ArgumentOutOfRangeException(name, neurons,
                $"{neurons} neurons exceed the largest array of the {(device.IsHost ? "host path" : "device")} ({maxIndex} elements).");
        }

        long available = device.IsHost ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes : device.Accelerator.MemorySize;
        if (neurons > long.MaxValue / bytesPerNeuron || neurons * bytesPerNeuron > available * 9 / 10)
        {
            throw new ArgumentOutOfRangeException(name, neurons,
                $"{neurons} neurons need about {(double)neurons * bytesPerNeuron / (1 << 30):G3} GiB, more than the " +
                $"{(double)available / (1 << 30):G3} GiB of {(device.IsHost ? "host" : "device")} memory.");
        }
    }
}
