using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>A layer with an LMU memory: keeps the discretised system for its current θ on the backend, refreshes it
/// when an optimiser step moves θ, and clamps θ to the stable range.</summary>
internal abstract class LmuMemoryLayer : ModelLayer
{
    private Tensor? _system;

    /// <summary>Index of θ in the model's parameter vector.</summary>
    public abstract int ThetaIndex { get; }

    /// <summary>θ the system matrices were built for.</summary>
    protected float CurrentTheta { get; private set; }

    /// <summary>The discretised system (double precision) for <see cref="CurrentTheta"/>.</summary>
    protected LmuSystem CurrentSystem { get; private set; } = null!;

    /// <summary>The system matrices (<see cref="CellLayout.SystemBuffer"/>) for <see cref="CurrentTheta"/>.</summary>
    protected Tensor SystemTensor => _system ?? throw new InvalidOperationException("Prepare the layer before running it.");

    /// <summary>The memory's order, time step, discretiser and whether θ is trained.</summary>
    protected abstract (int Order, double Dt, Discretizer Discretizer, bool TrainableTheta) Memory { get; }

    public override void Prepare(Backend backend, ReadOnlySpan<float> parameters) => SetTheta(backend, parameters[ThetaIndex - Offset]);

    public override void AfterUpdate(Backend backend, Tensor parameters)
    {
        var memory = Memory;
        if (!memory.TrainableTheta)
        {
            return;
        }

        var value = backend.Download(parameters.Sub(ThetaIndex, 1));
        float clamped = ClampTheta(value[0], memory.Dt, memory.Discretizer, memory.Order);
        if (clamped != value[0])
        {
            backend.Upload(parameters.Sub(ThetaIndex, 1), [clamped]);
        }

        if (clamped != CurrentTheta)
        {
            SetTheta(backend, clamped);
        }
    }

    public override void Dispose() => _system?.Dispose();

    private void SetTheta(Backend backend, float theta)
    {
        CurrentTheta = theta;
        var memory = Memory;
        CurrentSystem = LmuSystem.Create(memory.Order, theta, memory.Dt, memory.Discretizer);
        float[] buffer = CellLayout.SystemBuffer(CurrentSystem);
        EnsureTensor(backend, ref _system, buffer.Length, "system matrices");
        backend.Upload(_system!.All, buffer);
    }
}
