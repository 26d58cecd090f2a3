using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>
/// The feedforward LMU layer: input-driven memory, dense output. Over whole sequences the memory runs through the
/// backend's <see cref="IMemorySequenceEngine"/>. When the layer is the model's last LMU layer and the model
/// outputs at the last step only (<see cref="ModelLayer.LastStepOnly"/>), only h_T is computed: m_T = Σ_t H_{T−1−t}·u_t with
/// the impulse response H_j = Āʲ·B̄ as one [B, T·k] × [T·k, k·d] product (Chilkuri &amp; Eliasmith's final-state
/// shortcut), and dL/du_t = H_{T−1−t}ᵀ·dL/dm_T in the backward pass; the T-long memory and hidden sequences are
/// never formed. With a trainable θ, or when the impulse matrix would exceed <see cref="MaxImpulseValues"/>, the
/// memory sequence and its adjoint run as usual and only the output side is reduced to the last step.
/// </summary>
internal sealed class FeedforwardModelLayer : LmuMemoryLayer
{
    /// <summary>Largest impulse matrix (k²·d·T floats) the last-step path builds.</summary>
    internal const long MaxImpulseValues = 1L << 24;

    private readonly int _ex;
    private readonly int _bu;
    private readonly int _wx;
    private readonly int _wm;
    private readonly int _bh;
    private readonly int _thetaOffset;
    private Tensor? _u;
    private Tensor? _mSeq;
    private Tensor? _dZ;
    private Tensor? _gradM;
    private Tensor? _dU;
    private Tensor? _theta;
    private Tensor? _mLast;
    private Tensor? _xLast;
    private Tensor? _gradMLast;
    private Tensor? _impulse;
    private Tensor? _power;
    private Tensor? _uShifted;
    private float _powerTheta = float.NaN;
    private int _powerSteps;
    private float _impulseTheta = float.NaN;
    private int _impulseSteps;
    private ScanMemorySequence? _scan;

    public FeedforwardModelLayer(FeedforwardLmuOptions options)
    {
        options.Validate();
        Options = options;
        InputWidth = options.InputSize;
        OutputWidth = options.Units;
        int k = options.MemoryChannels;
        int n = options.Units;
        int nx = options.InputSize;
        _ex = 0;
        _bu = k * nx;
        _wx = _bu + k;
        _wm = _wx + (n * nx);
        _bh = _wm + (n * options.MemorySize);
        _thetaOffset = _bh + n;
    }

    public FeedforwardLmuOptions Options { get; }

    /// <summary>Set by the model (<see cref="LmuModel.SequenceMethod"/>): how the memory runs over whole sequences.</summary>
    public SequenceMethod SequenceMethod { get; set; }

    /// <summary>The scan's chunk length L (0: the engine's rule); tests set a short one to exercise the carries.</summary>
    internal int ScanChunkLength { get; set; }

    /// <remarks>As the model's last-step layer with <see cref="ModelLayer.Lengths"/>, the impulse product runs over the
    /// memory input moved to the end of the T steps first (m_{L−1} = Σ_{t&lt;L} H_{L−1−t}·u_t is the T-step product of
    /// the moved input); run sequentially or by the scan, the memory's state is taken at step L − 1.</remarks>
    public override bool SupportsLastStepOnly => true;

    public override int ParameterLength => _thetaOffset + 1;

    public override long TrainableCount => Options.TrainableParameterCount;

    public override bool IsSequence => true;

    public override int ThetaIndex => Offset + _thetaOffset;

    protected override (int Order, double Dt, Discretizer Discretizer, bool TrainableTheta) Memory =>
        (Options.Order, Options.Dt, Options.Discretizer, Options.TrainableTheta);

    /// <remarks>The impulse-response product is built for the batch's T steps: a last-step layer that takes it keeps
    /// them.</remarks>
    public override bool NeedsAllSteps(int steps) => UsesImpulsePath(steps);

    /// <summary>True when a last-step run over <paramref name="steps"/> uses the impulse-response product.</summary>
    /// <param name="steps">T.</param>
    /// <returns>Whether the memory sequence is skipped.</returns>
    public bool UsesImpulsePath(int steps) =>
        LastStepOnly && !Options.TrainableTheta
        && (long)Options.MemoryChannels * Options.MemorySize * steps <= MaxImpulseValues;

    /// <summary>Whether the memory sequence over <paramref name="batch"/> × <paramref name="steps"/> runs by the chunked
    /// scan: always under <see cref="SequenceMethod.Scan"/>, never under <see cref="SequenceMethod.Sequential"/>, and
    /// under <see cref="SequenceMethod.Auto"/> where θ is fixed and the engine's rule prefers the scan (as
    /// <see cref="LinearMemory.ResolveAuto"/> decides for the same sizes).</summary>
    /// <param name="backend">The model's backend.</param>
    /// <param name="batch">B.</param>
    /// <param name="steps">T.</param>
    /// <returns>True for the scan.</returns>
    public bool UsesScan(Backend backend, int batch, int steps)
    {
        switch (SequenceMethod)
        {
            case SequenceMethod.Sequential:
                return false;
            case SequenceMethod.Scan:
                return true;
            default:
                return !Options.TrainableTheta && Scan(backend).Prefers(CurrentSystem, batch, Options.MemoryChannels, steps);
        }
    }

    /// <summary>As <see cref="UsesScan"/> for the memory's adjoint, which under <see cref="SequenceMethod.Auto"/> follows
    /// <see cref="LinearMemory.ResolveAutoAdjoint"/> (on the host its scan does about twice the sequential adjoint's
    /// work, so many memories keep it sequential where the forward run may still take the scan).</summary>
    /// <param name="backend">The model's backend.</param>
    /// <param name="batch">B.</param>
    /// <param name="steps">T.</param>
    /// <returns>True for the scan.</returns>
    public bool UsesAdjointScan(Backend backend, int batch, int steps) => SequenceMethod == SequenceMethod.Auto
        ? !Options.TrainableTheta && Scan(backend).PrefersAdjoint(CurrentSystem, batch, Options.MemoryChannels, steps)
        : UsesScan(backend, batch, steps);

    public override void Initialize(Span<float> parameters, Random rng)
    {
        int k = Options.MemoryChannels;
        int n = Options.Units;
        int nx = Options.InputSize;
        LmuCellWeights.LecunUniform(rng, parameters.Slice(_ex, k * nx), nx);
        if (Options.InputToHidden)
        {
            LmuCellWeights.GlorotUniform(rng, parameters.Slice(_wx, n * nx), nx, n);
        }

        LmuCellWeights.GlorotUniform(rng, parameters.Slice(_wm, n * Options.MemorySize), Options.MemorySize, n);
        parameters[_thetaOffset] = (float)Options.Theta;
    }

    public override void EnsureWorkspace(Backend backend, int batch, int steps)
    {
        long rows = (long)batch * steps;
        int k = Options.MemoryChannels;
        int kd = Options.MemorySize;
        int n = Options.Units;
        long outRows = LastStepOnly ? batch : rows;
        bool impulse = UsesImpulsePath(steps);
        EnsureTensor(backend, ref _u, rows * k, "memory input");
        EnsureTensor(backend, ref _dZ, outRows * n, "dL/dz");
        EnsureTensor(backend, ref _dU, rows * k, "dL/du");
        if (!impulse)
        {
            EnsureTensor(backend, ref _mSeq, rows * kd, "memory sequence");
            EnsureTensor(backend, ref _gradM, rows * kd, "dL/dm");
            EnsureTensor(backend, ref _theta, (long)batch * k, "θ partials");
        }

        if (LastStepOnly)
        {
            EnsureTensor(backend, ref _mLast, (long)batch * kd, "last memory state");
            EnsureTensor(backend, ref _gradMLast, (long)batch * kd, "dL/dm at the last step");
            EnsureTensor(backend, ref _xLast, (long)batch * Options.InputSize, "last input");
        }
    }

    public override void Forward(Backend backend, Slice w, Slice x, Slice y, int batch, int steps)
    {
        if (LastStepOnly)
        {
            ForwardLastStep(backend, w, x, y, batch, steps);
            return;
        }

        int rows = batch * steps;
        var u = MemoryInput(backend, w, x, rows);
        backend.Profile?.Mark("forward feedforward: encoders u = e·x");
        var m = _mSeq!.Sub(0, (long)rows * Options.MemorySize);
        MemoryForward(backend, batch, steps, u, m);
        backend.Profile?.Mark("forward feedforward: memory");
        OutputForward(backend, w, m, x, y, rows);
        backend.Profile?.Mark("forward feedforward: hidden dense");
    }

    /// <summary>m [B, k, d].</summary>
    public override long StreamStateLength(int batch) => (long)batch * Options.MemorySize;

    public override IEnumerable<(long Offset, long Length)> StreamStateRanges(int batch, int sequence) =>
        [((long)sequence * Options.MemorySize, Options.MemorySize)];

    /// <remarks>The memory runs from <paramref name="state"/> by the scan or sequentially, by the rule of a
    /// whole-sequence run (<see cref="UsesScan"/>), and leaves its final state there. As the model's last-step layer
    /// (<see cref="ModelLayer.LastStepOnly"/>) it runs the memory to its final state only and writes y [B, n] at the piece's last
    /// step; otherwise every step's output [B, T, n].</remarks>
    public override void ForwardStream(Backend backend, Slice w, Slice x, Slice y, int batch, int steps, Slice state)
    {
        int rows = batch * steps;
        int k = Options.MemoryChannels;
        EnsureTensor(backend, ref _u, (long)rows * k, "memory input");
        var u = MemoryInput(backend, w, x, rows);
        bool scan = UsesScan(backend, batch, steps);
        if (LastStepOnly)
        {
            EnsureTensor(backend, ref _xLast, (long)batch * Options.InputSize, "last input");
            if (steps > 1 && UsesImpulsePath(steps))
            {
                // Chilkuri & Eliasmith's final-state shortcut from a carried state: m_T = Āᵀ·m₀ + Σ_t H_{T−1−t}·u_t,
                // one [B·k, d] × [d, d] product and one [B, T·k] × [T·k, k·d] product.
                int d = Options.Order;
                int kd = Options.MemorySize;
                EnsureTensor(backend, ref _mLast, (long)batch * kd, "last memory state");
                var mLast = _mLast!.Sub(0, (long)batch * kd);
                var power = EnsurePower(backend, steps);
                backend.DenseForward(new DenseParams(batch * k, d, d, ActivationCode.Linear, 0, 0), state, power, power.Sub(0, 1), mLast);
                var impulse = EnsureImpulse(backend, steps);
                backend.DenseForward(new DenseParams(batch, steps * k, kd, ActivationCode.Linear, 0, 1), u, impulse, impulse.Sub(0, 1), mLast);
                backend.Copy(mLast, state);
            }
            else
            {
                Scan(backend).FinalFrom(CurrentSystem, batch, k, steps, u, state, scan);
            }

            var xLast = _xLast!.Sub(0, (long)batch * Options.InputSize);
            backend.SelectLast(x, xLast, batch, steps, Options.InputSize);
            OutputForward(backend, w, state, xLast, y, batch);
            return;
        }

        SequenceFrom(backend, w, x, y, batch, steps, u, state, scan);
    }

    /// <remarks>The memory sequence runs from <paramref name="state"/> (by the scan or sequentially, as
    /// <see cref="UsesScan"/> decides) and is kept, as <see cref="Forward"/> keeps it; <see cref="Backward"/> needs
    /// nothing else: the weights' gradients read the kept states, the adjoint does not depend on the initial state, and
    /// θ's gradient under zero-order hold reads only m_t and u_t (Euler's reads m_(t−1): the model refuses truncated
    /// training with a trainable Euler θ).</remarks>
    public override void ForwardCarried(Backend backend, Slice w, Slice x, Slice y, int batch, int steps, Slice state)
    {
        int rows = batch * steps;
        var u = MemoryInput(backend, w, x, rows);
        SequenceFrom(backend, w, x, y, batch, steps, u, state, UsesScan(backend, batch, steps));
    }

    /// <summary>Every step's output from the memory run from <paramref name="state"/> over the memory input
    /// <paramref name="u"/>, the memory sequence kept and the final state left in <paramref name="state"/>.</summary>
    private void SequenceFrom(Backend backend, Slice w, Slice x, Slice y, int batch, int steps, Slice u, Slice state, bool scan)
    {
        int rows = batch * steps;
        EnsureTensor(backend, ref _mSeq, (long)rows * Options.MemorySize, "memory sequence");
        var m = _mSeq!.Sub(0, (long)rows * Options.MemorySize);
        Scan(backend).ForwardFrom(CurrentSystem, batch, Options.MemoryChannels, steps, u, m, state, scan);
        OutputForward(backend, w, m, x, y, rows);
    }

    public override void Backward(Backend backend, Slice w, Slice grad, Slice x, Slice y, Slice gradY, Slice? gradX, int batch, int steps)
    {
        if (LastStepOnly)
        {
            BackwardLastStep(backend, w, grad, x, y, gradY, gradX, batch, steps);
            return;
        }

        var o = Options;
        int rows = batch * steps;
        int kd = o.MemorySize;
        var m = _mSeq!.Sub(0, (long)rows * kd);
        var gradM = _gradM!.Sub(0, (long)rows * kd);
        var dZ = OutputBackward(backend, w, grad, m, x, y, gradY, gradM, rows);
        MemoryAdjoint(backend, grad, batch, steps, m, gradM);
        backend.Profile?.Mark("backward feedforward: memory adjoint");
        InputBackward(backend, w, grad, x, gradX, rows);
        if (gradX is Slice gx && o.InputToHidden)
        {
            backend.DenseBackwardInput(new DenseParams(rows, o.InputSize, o.Units, 0, 0, 1), dZ, w.Sub(_wx, o.Units * o.InputSize), gx);
        }

        backend.Profile?.Mark("backward feedforward: encoders");
    }

    public override void Dispose()
    {
        foreach (var t in new[] { _u, _mSeq, _dZ, _gradM, _dU, _theta, _mLast, _xLast, _gradMLast, _impulse, _power, _uShifted })
        {
            t?.Dispose();
        }

        _scan?.Dispose();

        base.Dispose();
    }

    private void ForwardLastStep(Backend backend, Slice w, Slice x, Slice y, int batch, int steps)
    {
        var o = Options;
        int rows = batch * steps;
        int k = o.MemoryChannels;
        int kd = o.MemorySize;
        var u = MemoryInput(backend, w, x, rows);
        var mLast = _mLast!.Sub(0, (long)batch * kd);
        var xLast = _xLast!.Sub(0, (long)batch * o.InputSize);
        if (UsesImpulsePath(steps))
        {
            var impulse = EnsureImpulse(backend, steps);
            if (Lengths is { } lengths)
            {
                EnsureTensor(backend, ref _uShifted, (long)rows * k, "memory input moved to the end");
                var shifted = _uShifted!.Sub(0, (long)rows * k);
                backend.ShiftSteps(u, shifted, batch, steps, k, lengths, toEnd: true);
                u = shifted;
            }

            backend.DenseForward(new DenseParams(batch, steps * k, kd, ActivationCode.Linear, 0, 0), u, impulse, impulse.Sub(0, 1), mLast);
        }
        else
        {
            var m = _mSeq!.Sub(0, (long)rows * kd);
            MemoryForward(backend, batch, steps, u, m);
            backend.SelectFinal(m, mLast, batch, steps, kd, Lengths);
        }

        backend.SelectFinal(x, xLast, batch, steps, o.InputSize, Lengths);
        OutputForward(backend, w, mLast, xLast, y, batch);
    }

    private void BackwardLastStep(Backend backend, Slice w, Slice grad, Slice x, Slice y, Slice gradY, Slice? gradX, int batch, int steps)
    {
        var o = Options;
        int rows = batch * steps;
        int k = o.MemoryChannels;
        int kd = o.MemorySize;
        int nx = o.InputSize;
        var mLast = _mLast!.Sub(0, (long)batch * kd);
        var xLast = _xLast!.Sub(0, (long)batch * nx);
        var gradMLast = _gradMLast!.Sub(0, (long)batch * kd);
        var dZ = OutputBackward(backend, w, grad, mLast, xLast, y, gradY, gradMLast, batch);
        if (UsesImpulsePath(steps))
        {
            var impulse = EnsureImpulse(backend, steps);
            var dU = _dU!.Sub(0, (long)rows * k);
            if (Lengths is { } lengths)
            {
                // The product's input was the moved u: its gradient moves back (and is 0 on the padding).
                var shifted = _uShifted!.Sub(0, (long)rows * k);
                backend.DenseBackwardInput(new DenseParams(batch, steps * k, kd, 0, 0, 0), gradMLast, impulse, shifted);
                backend.ShiftSteps(shifted, dU, batch, steps, k, lengths, toEnd: false);
            }
            else
            {
                backend.DenseBackwardInput(new DenseParams(batch, steps * k, kd, 0, 0, 0), gradMLast, impulse, dU);
            }
        }
        else
        {
            var m = _mSeq!.Sub(0, (long)rows * kd);
            var gradM = _gradM!.Sub(0, (long)rows * kd);
            backend.Clear(gradM);
            backend.ScatterFinal(gradMLast, gradM, batch, steps, kd, Lengths);
            MemoryAdjoint(backend, grad, batch, steps, m, gradM);
        }

        InputBackward(backend, w, grad, x, gradX, rows);
        if (gradX is Slice gx && o.InputToHidden)
        {
            // W_x only reaches the last step: gather its rows, add dZ·W_x, put them back.
            backend.SelectFinal(gx, xLast, batch, steps, nx, Lengths);
            backend.DenseBackwardInput(new DenseParams(batch, nx, o.Units, 0, 0, 1), dZ, w.Sub(_wx, o.Units * nx), xLast);
            backend.ScatterFinal(xLast, gx, batch, steps, nx, Lengths);
        }
    }

    /// <summary>u = e_x·x + b_u over <paramref name="rows"/> rows, into the layer's memory-input buffer.</summary>
    private Slice MemoryInput(Backend backend, Slice w, Slice x, int rows)
    {
        var o = Options;
        int k = o.MemoryChannels;
        var u = _u!.Sub(0, (long)rows * k);
        backend.DenseForward(new DenseParams(rows, o.InputSize, k, ActivationCode.Linear, o.MemoryBias ? 1 : 0, 0), x, w.Sub(_ex, k * o.InputSize), w.Sub(_bu, k), u);
        return u;
    }

    /// <summary>y = f(W_m·m + W_x·x + b_h) over <paramref name="rows"/> rows.</summary>
    private void OutputForward(Backend backend, Slice w, Slice m, Slice x, Slice y, int rows)
    {
        var o = Options;
        int kd = o.MemorySize;
        backend.DenseForward(new DenseParams(rows, kd, o.Units, ActivationCode.Linear, o.HiddenBias ? 1 : 0, 0), m, w.Sub(_wm, o.Units * kd), w.Sub(_bh, o.Units), y);
        if (o.InputToHidden)
        {
            backend.DenseForward(new DenseParams(rows, o.InputSize, o.Units, ActivationCode.Linear, 0, 1), x, w.Sub(_wx, o.Units * o.InputSize), w.Sub(_bh, o.Units), y);
        }

        backend.ActivateInPlace(y, o.Activation);
    }

    /// <summary>Gradients of W_m, b_h, W_x over <paramref name="rows"/> rows and dL/dm into <paramref name="gradM"/>;
    /// returns dL/dz.</summary>
    private Slice OutputBackward(Backend backend, Slice w, Slice grad, Slice m, Slice x, Slice y, Slice gradY, Slice gradM, int rows)
    {
        var o = Options;
        int n = o.Units;
        int kd = o.MemorySize;
        int nx = o.InputSize;
        var dZ = _dZ!.Sub(0, (long)rows * n);
        backend.ActivationBackward(y, gradY, dZ, o.Activation);
        backend.Outer(new OuterParams(1, rows, n, kd, 0), dZ, m, grad.Sub(_wm, n * kd));
        if (o.HiddenBias)
        {
            backend.ColumnSum(dZ, grad.Sub(_bh, n), rows, n);
        }

        if (o.InputToHidden)
        {
            backend.Outer(new OuterParams(1, rows, n, nx, 0), dZ, x, grad.Sub(_wx, n * nx));
        }

        backend.Profile?.Mark("backward feedforward: hidden dense, weight gradients");
        backend.DenseBackwardInput(new DenseParams(rows, kd, n, 0, 0, 0), dZ, w.Sub(_wm, n * kd), gradM);
        backend.Profile?.Mark("backward feedforward: hidden dense, memory gradient");
        return dZ;
    }

    /// <summary>m [B, T, k, d] from u [B, T, k], from zero, by the scan or the backend's sequential engine.</summary>
    private void MemoryForward(Backend backend, int batch, int steps, Slice u, Slice m)
    {
        if (UsesScan(backend, batch, steps))
        {
            Scan(backend).Forward(CurrentSystem, batch, Options.MemoryChannels, steps, u, m);
        }
        else
        {
            backend.Memory.Forward(batch, Options.MemoryChannels, Options.Order, steps, SystemTensor.All, u, m);
        }
    }

    private ScanMemorySequence Scan(Backend backend)
    {
        _scan ??= new ScanMemorySequence(backend);
        _scan.ChunkLength = ScanChunkLength;
        return _scan;
    }

    /// <summary>dL/du from the memory adjoint, and the θ gradient when θ is trained.</summary>
    private void MemoryAdjoint(Backend backend, Slice grad, int batch, int steps, Slice m, Slice gradM)
    {
        var o = Options;
        int k = o.MemoryChannels;
        int rows = batch * steps;
        var dU = _dU!.Sub(0, (long)rows * k);
        var u = _u!.Sub(0, (long)rows * k);
        float thetaScale = (float)(-o.Dt / ((double)CurrentTheta * CurrentTheta));
        if (UsesAdjointScan(backend, batch, steps))
        {
            if (!o.TrainableTheta)
            {
                Scan(backend).InputGradient(CurrentSystem, batch, k, steps, gradM, dU);
                return;
            }

            double sum = Scan(backend).InputGradientAndTheta(CurrentSystem, batch, k, steps, gradM, dU, m, u, SystemTensor.All,
                o.Discretizer == Discretizer.Euler);
            backend.Upload(grad.Sub(_thetaOffset, 1), [(float)(sum * thetaScale)]);
            return;
        }

        int flags = (o.TrainableTheta ? CellFlags.ThetaGradient : 0) | (o.Discretizer == Discretizer.Euler ? CellFlags.Euler : 0);
        backend.Memory.Adjoint(new MemoryAdjointParams(o.Order, k, steps, flags, thetaScale), batch, SystemTensor.All, m, u, gradM, dU, _theta!.All);
        if (o.TrainableTheta)
        {
            float[] partial = backend.Download(_theta!.Sub(0, (long)batch * k));
            double sum = 0;
            foreach (float v in partial)
            {
                sum += v;
            }

            backend.Upload(grad.Sub(_thetaOffset, 1), [(float)sum]);
        }
    }

    /// <summary>Gradients of e_x and b_u from dL/du, and dL/dx through e_x.</summary>
    private void InputBackward(Backend backend, Slice w, Slice grad, Slice x, Slice? gradX, int rows)
    {
        var o = Options;
        int k = o.MemoryChannels;
        int nx = o.InputSize;
        var dU = _dU!.Sub(0, (long)rows * k);
        backend.Outer(new OuterParams(1, rows, k, nx, 0), dU, x, grad.Sub(_ex, k * nx));
        if (o.MemoryBias)
        {
            backend.ColumnSum(dU, grad.Sub(_bu, k), rows, k);
        }

        if (gradX is Slice gx)
        {
            backend.DenseBackwardInput(new DenseParams(rows, nx, k, 0, 0, 0), dU, w.Sub(_ex, k * nx), gx);
        }
    }

    /// <summary>Āᵀ (the T-th power of Ā, row-major, as dense weights [d, d]) for the stream's final-state shortcut, built
    /// in double from the current system and rebuilt when θ or T changes.</summary>
    private Slice EnsurePower(Backend backend, int steps)
    {
        int d = Options.Order;
        if (_power is null || _powerSteps != steps || !_powerTheta.Equals(CurrentTheta))
        {
            EnsureTensor(backend, ref _power, (long)d * d, "memory power");
            backend.Upload(_power!.Sub(0, (long)d * d), ScanPlan.RowMajor(CurrentSystem.DiscreteAPower(steps)));
            _powerSteps = steps;
            _powerTheta = CurrentTheta;
        }

        return _power.Sub(0, (long)d * d);
    }

    /// <summary>The impulse matrix as dense weights [k·d, T·k]: W[c·d + i, t·k + c] = (H_{T−1−t})ᵢ, zero across
    /// channels, so that m_T = W·u and dL/du = Wᵀ·dL/dm_T. Built in double from the current system, rebuilt when θ or
    /// T changes.</summary>
    private Slice EnsureImpulse(Backend backend, int steps)
    {
        int k = Options.MemoryChannels;
        int d = Options.Order;
        int kd = k * d;
        int width = steps * k;
        long length = (long)kd * width;
        if (_impulse is not null && _impulseSteps == steps && _impulseTheta.Equals(CurrentTheta))
        {
            return _impulse.Sub(0, length);
        }

        double[] h = CurrentSystem.ImpulseResponse(steps);
        var w = new float[length];
        for (int c = 0; c < k; c++)
        {
            for (int i = 0; i < d; i++)
            {
                long row = (long)((c * d) + i) * width;
                for (int t = 0; t < steps; t++)
                {
                    w[row + ((long)t * k) + c] = (float)h[((long)(steps - 1 - t) * d) + i];
                }
            }
        }

        EnsureTensor(backend, ref _impulse, length, "impulse response");
        backend.Upload(_impulse!.Sub(0, length), w);
        _impulseSteps = steps;
        _impulseTheta = CurrentTheta;
        return _impulse.Sub(0, length);
    }
}
