using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>A trainable layer: a slice of the model's flat parameter vector plus the forward and backward passes.</summary>
internal abstract class ModelLayer : IDisposable
{
    public int InputWidth { get; protected init; }

    public int OutputWidth { get; protected init; }

    /// <summary>Offset of this layer's parameters in the model's vector.</summary>
    public int Offset { get; set; }

    public abstract int ParameterLength { get; }

    public abstract long TrainableCount { get; }

    /// <summary>True for layers that run over time (their input and output are [B, T, width]).</summary>
    public abstract bool IsSequence { get; }

    public abstract void Initialize(Span<float> parameters, Random rng);

    /// <summary>Uploads derived data (system matrices) for the current parameters.</summary>
    public virtual void Prepare(Backend backend, ReadOnlySpan<float> parameters)
    {
    }

    /// <summary>After an optimiser step: refresh derived data if θ moved.</summary>
    public virtual void AfterUpdate(Backend backend, Tensor parameters)
    {
    }

    public abstract void EnsureWorkspace(Backend backend, int batch, int steps);

    /// <summary>y = layer(x) for <paramref name="batch"/> × <paramref name="steps"/> rows.</summary>
    public abstract void Forward(Backend backend, Slice w, Slice x, Slice y, int batch, int steps);

    /// <summary>Accumulates parameter gradients into <paramref name="grad"/> and writes dL/dx into
    /// <paramref name="gradX"/> when it is not null.</summary>
    public abstract void Backward(Backend backend, Slice w, Slice grad, Slice x, Slice y, Slice gradY, Slice? gradX, int batch, int steps);

    public virtual void Dispose()
    {
    }

    protected static void EnsureTensor(Backend backend, ref Tensor? tensor, long length, string what)
    {
        if (tensor is null || tensor.Length < length)
        {
            tensor?.Dispose();
            tensor = backend.Allocate(Math.Max(1, length), what);
        }
    }

    protected static float ClampTheta(float theta, double dt, Discretizer discretizer, int order)
    {
        double min = discretizer == Discretizer.Euler ? LmuSystem.MinimumStableEulerTheta(order, dt) * 1.01 : 0.05 * dt;
        return float.IsFinite(theta) && theta >= min ? theta : (float)Math.Max(min, float.IsFinite(theta) ? theta : min);
    }
}

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

/// <summary>The nonlinear LMU cell over whole sequences (from zero state), with BPTT.</summary>
internal sealed class CellModelLayer : LmuMemoryLayer
{
    private readonly CellLayout _layout;
    private Tensor? _stateH;
    private Tensor? _stateM;
    private Tensor? _mSeq;
    private Tensor? _uSeq;
    private Tensor? _dZ;
    private Tensor? _dU;
    private Tensor? _theta;
    private Tensor? _dummy;

    public CellModelLayer(LmuCellOptions options)
    {
        options.Validate();
        Options = options;
        _layout = CellLayout.For(options);
        InputWidth = options.InputSize;
        OutputWidth = options.Units;
    }

    public LmuCellOptions Options { get; }

    public override int ParameterLength => _layout.Length;

    public override long TrainableCount => Options.TrainableParameterCount;

    public override bool IsSequence => true;

    public override int ThetaIndex => Offset + _layout.Theta;

    protected override (int Order, double Dt, Discretizer Discretizer, bool TrainableTheta) Memory =>
        (Options.Order, Options.Dt, Options.Discretizer, Options.TrainableTheta);

    public override void Initialize(Span<float> parameters, Random rng)
    {
        var w = LmuCellWeights.CreateRandom(Options, rng.Next());
        w.ToFlat().CopyTo(parameters);
    }

    public override void EnsureWorkspace(Backend backend, int batch, int steps)
    {
        long rows = (long)batch * steps;
        EnsureTensor(backend, ref _stateH, (long)batch * Options.Units, "hidden state");
        EnsureTensor(backend, ref _stateM, (long)batch * Options.MemorySize, "memory state");
        EnsureTensor(backend, ref _mSeq, rows * Options.MemorySize, "memory sequence");
        EnsureTensor(backend, ref _uSeq, rows * Options.MemoryChannels, "memory input sequence");
        EnsureTensor(backend, ref _dZ, rows * Options.Units, "dL/dz");
        EnsureTensor(backend, ref _dU, rows * Options.MemoryChannels, "dL/du");
        EnsureTensor(backend, ref _theta, batch, "θ partials");
        EnsureTensor(backend, ref _dummy, 1, "placeholder");
    }

    public override void Forward(Backend backend, Slice w, Slice x, Slice y, int batch, int steps)
    {
        backend.Clear(_stateH!.Sub(0, (long)batch * Options.Units));
        backend.Clear(_stateM!.Sub(0, (long)batch * Options.MemorySize));
        var p = _layout.Params(Options, steps, CellFlags.StoreStates, CurrentTheta);
        backend.CellForward(p, batch, w, SystemTensor.All, x, _stateH.All, _stateM.All, y, _mSeq!.All, _uSeq!.All);
    }

    public override void Backward(Backend backend, Slice w, Slice grad, Slice x, Slice y, Slice gradY, Slice? gradX, int batch, int steps)
    {
        var o = Options;
        int extra = (o.TrainableTheta ? CellFlags.ThetaGradient : 0) | (gradX is null ? 0 : CellFlags.InputGradient);
        var p = _layout.Params(o, steps, extra, CurrentTheta);
        long rows = (long)batch * steps;
        var dZ = _dZ!.Sub(0, rows * o.Units);
        var dU = _dU!.Sub(0, rows * o.MemoryChannels);
        var mSeq = _mSeq!.Sub(0, rows * o.MemorySize);
        backend.CellBackward(p, batch, w, SystemTensor.All, x, y, mSeq, _uSeq!.All, gradY, dZ, dU, gradX ?? _dummy!.All, _theta!.All);
        int n = o.Units;
        int k = o.MemoryChannels;
        int kd = o.MemorySize;
        int nx = o.InputSize;
        backend.Outer(new OuterParams(batch, steps, n, kd, 0), dZ, mSeq, grad.Sub(_layout.Wm, n * kd));
        backend.Outer(new OuterParams(batch, steps, k, nx, 0), dU, x, grad.Sub(_layout.Ex, k * nx));
        if (o.InputToHidden)
        {
            backend.Outer(new OuterParams(batch, steps, n, nx, 0), dZ, x, grad.Sub(_layout.Wx, n * nx));
        }

        if (o.HiddenToHidden)
        {
            backend.Outer(new OuterParams(batch, steps, n, n, 1), dZ, y, grad.Sub(_layout.Wh, n * n));
        }

        if (o.HiddenToMemory)
        {
            backend.Outer(new OuterParams(batch, steps, k, n, 1), dU, y, grad.Sub(_layout.Eh, k * n));
        }

        if (o.MemoryToMemory)
        {
            backend.Outer(new OuterParams(batch, steps, k, kd, 1), dU, mSeq, grad.Sub(_layout.Em, k * kd));
        }

        if (o.HiddenBias)
        {
            backend.ColumnSum(dZ, grad.Sub(_layout.Bh, n), (int)rows, n);
        }

        if (o.MemoryBias)
        {
            backend.ColumnSum(dU, grad.Sub(_layout.Bu, k), (int)rows, k);
        }

        if (o.TrainableTheta)
        {
            float[] partial = backend.Download(_theta!.Sub(0, batch));
            double sum = 0;
            foreach (float v in partial)
            {
                sum += v;
            }

            backend.Upload(grad.Sub(_layout.Theta, 1), [(float)sum]);
        }
    }

    public override void Dispose()
    {
        foreach (var t in new[] { _stateH, _stateM, _mSeq, _uSeq, _dZ, _dU, _theta, _dummy })
        {
            t?.Dispose();
        }

        base.Dispose();
    }
}

/// <summary>A dense layer y = f(W·x + b) over rows.</summary>
internal sealed class DenseModelLayer : ModelLayer
{
    private Tensor? _dZ;

    public DenseModelLayer(int inputs, int units, Activation activation)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(units, 1);
        InputWidth = inputs;
        OutputWidth = units;
        Activation = activation;
    }

    public Activation Activation { get; }

    public override int ParameterLength => (OutputWidth * InputWidth) + OutputWidth;

    public override long TrainableCount => ParameterLength;

    public override bool IsSequence => false;

    public override void Initialize(Span<float> parameters, Random rng) =>
        LmuCellWeights.GlorotUniform(rng, parameters[..(OutputWidth * InputWidth)], InputWidth, OutputWidth);

    public override void EnsureWorkspace(Backend backend, int batch, int steps) =>
        EnsureTensor(backend, ref _dZ, (long)batch * steps * OutputWidth, "dense dL/dz");

    public override void Forward(Backend backend, Slice w, Slice x, Slice y, int batch, int steps)
    {
        int rows = batch * steps;
        backend.DenseForward(new DenseParams(rows, InputWidth, OutputWidth, (int)Activation, 1, 0), x, w.Sub(0, OutputWidth * InputWidth), w.Sub(OutputWidth * InputWidth, OutputWidth), y);
    }

    public override void Backward(Backend backend, Slice w, Slice grad, Slice x, Slice y, Slice gradY, Slice? gradX, int batch, int steps)
    {
        int rows = batch * steps;
        var dZ = _dZ!.Sub(0, (long)rows * OutputWidth);
        backend.ActivationBackward(y, gradY, dZ, Activation);
        backend.Outer(new OuterParams(1, rows, OutputWidth, InputWidth, 0), dZ, x, grad.Sub(0, OutputWidth * InputWidth));
        backend.ColumnSum(dZ, grad.Sub(OutputWidth * InputWidth, OutputWidth), rows, OutputWidth);
        if (gradX is Slice gx)
        {
            backend.DenseBackwardInput(new DenseParams(rows, InputWidth, OutputWidth, 0, 0, 0), dZ, w.Sub(0, OutputWidth * InputWidth), gx);
        }
    }

    public override void Dispose() => _dZ?.Dispose();
}
