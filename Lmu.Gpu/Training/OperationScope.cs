using ILGPU.Runtime;

namespace Lmu.Gpu.Training;

/// <summary>
/// The scope of one operation on an <see cref="LmuModel"/> or one of its streams: it holds the model's lock (the calls
/// of one model run one at a time, reentrantly: an operation may call another) and makes the model's accelerator current
/// on the calling thread (a CUDA context belongs to the thread that made it current; nothing on the host path).
/// Dispose it to release both.
/// </summary>
internal readonly struct OperationScope : IDisposable
{
    private readonly object _gate;
    private readonly ScopedAcceleratorBinding _binding;

    /// <summary>Enters the model's lock and binds its accelerator.</summary>
    /// <param name="model">The model.</param>
    public OperationScope(LmuModel model)
    {
        _gate = model.Gate;
        Monitor.Enter(_gate);
        try
        {
            _binding = model.Device.IsHost || model.Device.IsDisposed ? default : model.Device.Accelerator.BindScoped();
        }
        catch
        {
            Monitor.Exit(_gate);
            throw;
        }
    }

    /// <summary>Restores the thread's accelerator and leaves the lock.</summary>
    public void Dispose()
    {
        _binding.Dispose();
        Monitor.Exit(_gate);
    }
}
