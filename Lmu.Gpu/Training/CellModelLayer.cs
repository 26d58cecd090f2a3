using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

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
    private Tensor? _initial;
    private Tensor? _firstDz;
    private Tensor? _firstDu;
    private LabelTensor? _ones;
    private int _onesBatch;
    private bool _carried;

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
        _carried = false;
        backend.Clear(_stateH!.Sub(0, (long)batch * Options.Units));
        backend.Clear(_stateM!.Sub(0, (long)batch * Options.MemorySize));
        var p = _layout.Params(Options, steps, CellFlags.StoreStates, CurrentTheta);
        backend.CellForward(p, batch, w, SystemTensor.All, x, _stateH.All, _stateM.All, y, _mSeq!.All, _uSeq!.All);
    }

    /// <summary>h [B, n], then m [B, k·d].</summary>
    public override long StreamStateLength(int batch) => (long)batch * (Options.Units + Options.MemorySize);

    public override IEnumerable<(long Offset, long Length)> StreamStateRanges(int batch, int sequence) =>
    [
        ((long)sequence * Options.Units, Options.Units),
        (((long)batch * Options.Units) + ((long)sequence * Options.MemorySize), Options.MemorySize),
    ];

    /// <remarks>The cell reads its states at the start and writes the last ones back, so the stream's state is passed
    /// as they are; no m_t or u_t sequence is stored.</remarks>
    public override void ForwardStream(Backend backend, Slice w, Slice x, Slice y, int batch, int steps, Slice state)
    {
        EnsureWorkspace(backend, batch, steps);
        long hidden = (long)batch * Options.Units;
        var p = _layout.Params(Options, steps, 0, CurrentTheta);
        backend.CellForward(p, batch, w, SystemTensor.All, x, state.Sub(0, hidden), state.Sub(hidden, (long)batch * Options.MemorySize), y, _mSeq!.All, _uSeq!.All);
    }

    /// <remarks>The cell starts from h and m in <paramref name="state"/> (a copy is kept: the step-0 terms of the
    /// recurrent weights' gradients read h_(−1) and m_(−1)) and stores its sequences as <see cref="Forward"/> does. θ's
    /// gradient under zero-order hold reads only m_t and u_t; Euler's reads m_(t−1), so the model refuses truncated
    /// training with a trainable Euler θ.</remarks>
    public override void ForwardCarried(Backend backend, Slice w, Slice x, Slice y, int batch, int steps, Slice state)
    {
        long length = StreamStateLength(batch);
        EnsureTensor(backend, ref _initial, length, "carried initial state");
        backend.Copy(state, _initial!.Sub(0, length));
        long hidden = (long)batch * Options.Units;
        var p = _layout.Params(Options, steps, CellFlags.StoreStates, CurrentTheta);
        backend.CellForward(p, batch, w, SystemTensor.All, x, state.Sub(0, hidden), state.Sub(hidden, (long)batch * Options.MemorySize), y, _mSeq!.All, _uSeq!.All);
        _carried = true;
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

        if (_carried)
        {
            InitialStateTerms(backend, grad, dZ, dU, batch, steps);
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

    /// <summary>After a carried forward pass, the step-0 terms of the recurrent weights' gradients that the shifted outer
    /// products leave out (they take h_(−1) = m_(−1) = 0): W_h += Σ_b dz_0 ⊗ h_(−1), e_h += Σ_b du_0 ⊗ h_(−1),
    /// e_m += Σ_b du_0 ⊗ m_(−1).</summary>
    private void InitialStateTerms(Backend backend, Slice grad, Slice dZ, Slice dU, int batch, int steps)
    {
        var o = Options;
        int n = o.Units;
        int k = o.MemoryChannels;
        int kd = o.MemorySize;
        if (_ones is null || _onesBatch < batch)
        {
            _ones?.Dispose();
            _ones = backend.AllocateLabels(batch);
            backend.UploadLabels(_ones, Enumerable.Repeat(1, batch).ToArray());
            _onesBatch = batch;
        }

        // Step 0 of each sequence: the step at "length" 1.
        EnsureTensor(backend, ref _firstDz, (long)batch * n, "dL/dz at step 0");
        EnsureTensor(backend, ref _firstDu, (long)batch * k, "dL/du at step 0");
        var dz0 = _firstDz!.Sub(0, (long)batch * n);
        var du0 = _firstDu!.Sub(0, (long)batch * k);
        backend.SelectAt(dZ, dz0, batch, steps, n, _ones);
        backend.SelectAt(dU, du0, batch, steps, k, _ones);
        var h0 = _initial!.Sub(0, (long)batch * n);
        var m0 = _initial.Sub((long)batch * n, (long)batch * kd);
        if (o.HiddenToHidden)
        {
            backend.Outer(new OuterParams(batch, 1, n, n, 0), dz0, h0, grad.Sub(_layout.Wh, n * n));
        }

        if (o.HiddenToMemory)
        {
            backend.Outer(new OuterParams(batch, 1, k, n, 0), du0, h0, grad.Sub(_layout.Eh, k * n));
        }

        if (o.MemoryToMemory)
        {
            backend.Outer(new OuterParams(batch, 1, k, kd, 0), du0, m0, grad.Sub(_layout.Em, k * kd));
        }
    }

    public override void Dispose()
    {
        foreach (var t in new[] { _stateH, _stateM, _mSeq, _uSeq, _dZ, _dU, _theta, _dummy, _initial, _firstDz, _firstDu })
        {
            t?.Dispose();
        }

        _ones?.Dispose();

        base.Dispose();
    }
}
