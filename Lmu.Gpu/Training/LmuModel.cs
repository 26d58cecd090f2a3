using System.Diagnostics;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>
/// A small sequence model: a stack of LMU layers (nonlinear cells and/or feedforward LMUs) followed by a dense head,
/// trained by backpropagation through time with its own forward and backward kernels (or the host path). The head is
/// applied at every step (<see cref="ReturnSequences"/>) or only at the last step. All parameters live in one flat
/// vector on the device; Adam/SGD update it in one launch.
/// </summary>
/// <remarks>Every sequence starts from zero state; <see cref="OpenStream"/> feeds sequences in pieces and carries the
/// states across them. Add all layers before the first use. Thread-safe: the model's operations and those of its
/// streams may be called from several threads and run one at a time (each is parallel inside, on the host path over
/// <see cref="HostThreads.Limit"/> threads).</remarks>
public sealed partial class LmuModel : IDisposable
{
    private readonly List<ModelLayer> _layers = [];
    private readonly Backend _backend;
    private readonly int _seed;
    private Tensor? _params;
    private Tensor? _grads;
    private Tensor? _adamM;
    private Tensor? _adamV;
    private long _adamStep;
    private uint _dropoutStep;
    private Tensor[] _seqActs = [];
    private Tensor[] _seqGrads = [];
    private Tensor[] _headActs = [];
    private Tensor[] _headGrads = [];
    private Tensor? _targets;
    private Tensor? _lossGrad;
    private LabelTensor? _labels;
    private LabelTensor? _lengths;
    private LabelTensor? _activeLengths;
    private Tensor[] _carried = [];
    private int _carriedBatch;
    private int _wsBatch;
    private int _wsSteps;
    private bool _disposed;
    private SequenceMethod _sequenceMethod;

    /// <summary>Serialises every operation on the model and its streams (<see cref="OperationScope"/>): they share the
    /// workspace, the layers' buffers and the host path's transposes.</summary>
    private readonly object _gate = new();

    /// <summary>Creates an empty model.</summary>
    /// <param name="device">The device to train and run on.</param>
    /// <param name="inputSize">Input features per step.</param>
    /// <param name="returnSequences">True: outputs at every step [N, T, O]; false: only at the last step [N, O].</param>
    /// <param name="seed">Seed of the weight initialisation.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputSize"/> &lt; 1.</exception>
    public LmuModel(LmuDevice device, int inputSize, bool returnSequences = true, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(device);
        ObjectDisposedException.ThrowIf(device.IsDisposed, device);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputSize, 1);
        Device = device;
        InputSize = inputSize;
        ReturnSequences = returnSequences;
        _seed = seed;
        _backend = Backend.For(device);
    }

    /// <summary>The device.</summary>
    public LmuDevice Device { get; }

    /// <summary>The lock every operation on the model and its streams holds (<see cref="OperationScope"/>).</summary>
    internal object Gate => _gate;

    /// <summary>Input features per step.</summary>
    public int InputSize { get; }

    /// <summary>True when the head runs at every step.</summary>
    public bool ReturnSequences { get; }

    /// <summary>The width of the last layer so far (the next layer's input size).</summary>
    public int Width => _layers.Count == 0 ? InputSize : _layers[^1].OutputWidth;

    /// <summary>Outputs per step (or per sequence).</summary>
    public int OutputSize => Width;

    /// <summary>The sequence length of the model's first training data (0 until the first <see cref="Fit"/>, or when
    /// loaded from a file without one). For information only: the models are causal, so they run, evaluate and train on
    /// sequences of any length, and a sequence's first t outputs do not depend on how long it goes on.</summary>
    public int SequenceLength { get; private set; }

    /// <summary>Trainable parameters (enabled weights, biases, trainable θ).</summary>
    public long ParameterCount => _layers.Sum(l => l.TrainableCount);

    /// <summary>Length of the flat parameter vector (including disabled, always-zero tensors and frozen θ).</summary>
    public int ParameterVectorLength => _layers.Sum(l => l.ParameterLength);

    /// <summary>
    /// How feedforward LMU layers evaluate their linear memory over a sequence, in training (the states and the
    /// adjoint that backpropagation runs through them) and in inference. Not saved with the model.
    /// </summary>
    /// <remarks>
    /// <see cref="SequenceMethod.Auto"/> (the default) runs the chunked parallel scan for layers with a fixed θ where the
    /// sizes favour it (the rules <see cref="LinearMemory.ResolveAuto"/> and <see cref="LinearMemory.ResolveAutoAdjoint"/>
    /// apply to the same B·k, T and d on the same device), else T sequential steps. <see cref="SequenceMethod.Scan"/>
    /// forces the scan, with a trainable θ too: its θ gradient then comes from the scan's λ and two outer-product sums.
    /// Auto keeps a trainable θ sequential, since every change of θ rebuilds the scan's tables (Ā^L and the impulse
    /// response in double: about 60 ms at d = 256, L = 1,024 on the development VM). The two methods agree to float32
    /// rounding. LMU cells, whose memory input
    /// depends on their own past, always run step by step; a last feedforward layer of a model that outputs at the last
    /// step only may skip the sequence altogether (the impulse-response product).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">Set to an undefined value.</exception>
    public SequenceMethod SequenceMethod
    {
        get => _sequenceMethod;
        set
        {
            if (!Enum.IsDefined(value))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "Unknown sequence method.");
            }

            _sequenceMethod = value;
            foreach (var layer in _layers.SelectMany(l => l.Parts).OfType<FeedforwardModelLayer>())
            {
                layer.SequenceMethod = value;
            }
        }
    }

    internal IReadOnlyList<ModelLayer> Layers => _layers;

    /// <summary>The backend the layers run on.</summary>
    internal Backend Backend => _backend;

    /// <summary>Appends a nonlinear LMU cell layer; its <see cref="LmuCellOptions.InputSize"/> must equal
    /// <see cref="Width"/>.</summary>
    /// <param name="options">The cell.</param>
    /// <returns>This model.</returns>
    /// <exception cref="ArgumentException">Wrong input size, or a dense layer was already added.</exception>
    /// <exception cref="InvalidOperationException">The model was already used.</exception>
    public LmuModel AddLmu(LmuCellOptions options)
    {
        using var scope = new OperationScope(this);
        ArgumentNullException.ThrowIfNull(options);
        CheckSequenceLayer(options.InputSize);
        _layers.Add(new CellModelLayer(options));
        return this;
    }

    /// <summary>Appends a feedforward LMU layer; its input size must equal <see cref="Width"/>.</summary>
    /// <param name="options">The layer.</param>
    /// <returns>This model.</returns>
    /// <exception cref="ArgumentException">Wrong input size, or a dense layer was already added.</exception>
    /// <exception cref="InvalidOperationException">The model was already used.</exception>
    public LmuModel AddFeedforwardLmu(FeedforwardLmuOptions options)
    {
        using var scope = new OperationScope(this);
        ArgumentNullException.ThrowIfNull(options);
        CheckSequenceLayer(options.InputSize);
        _layers.Add(new FeedforwardModelLayer(options) { SequenceMethod = _sequenceMethod });
        return this;
    }

    /// <summary>Appends a bidirectional pair of LMU cells: the forward cell reads each sequence from its first step, the
    /// backward cell from its last real step back to its first, and step t of the output is [forward h_t, backward
    /// h_t] (<see cref="LmuCellOptions.Units"/> of each, forward first), as Keras's <c>Bidirectional(LMU(…))</c> with
    /// <c>merge_mode="concat"</c>.</summary>
    /// <param name="forward">The forward cell; its <see cref="LmuCellOptions.InputSize"/> must equal <see cref="Width"/>.</param>
    /// <param name="backward">The backward cell (the same options as <paramref name="forward"/> when null; its weights
    /// are its own either way).</param>
    /// <param name="merge">How the two outputs are joined at each step: side by side (the default), or their sum or
    /// mean (both cells then need the same units).</param>
    /// <returns>This model.</returns>
    /// <exception cref="ArgumentException">Wrong input size, a dense layer was already added, or a sum or mean of
    /// halves with different units.</exception>
    /// <exception cref="InvalidOperationException">The model was already used.</exception>
    /// <remarks>
    /// <para>In a model that outputs at the last step only, with this pair as its last LMU layer, the output is
    /// [forward h at the last real step, backward h after the whole sequence] (Keras's <c>return_sequences=False</c>).
    /// With <see cref="SequenceDataset.WithLengths"/> each sequence is reversed over its own real steps, so its padding
    /// never reaches the backward cell's outputs at real steps.</para>
    /// <para>The backward cell needs a sequence's end before its first output, so a model with a bidirectional layer
    /// cannot be streamed (<see cref="OpenStream"/> refuses it); <see cref="Predict(float[], int, int, int, CancellationToken)"/>, <see cref="Evaluate"/> and
    /// <see cref="Fit"/> run it on every device.</para>
    /// </remarks>
    public LmuModel AddBidirectional(LmuCellOptions forward, LmuCellOptions? backward = null, BidirectionalMerge merge = BidirectionalMerge.Concat)
    {
        ArgumentNullException.ThrowIfNull(forward);
        backward ??= forward;
        return AddPair(forward.InputSize, backward.InputSize, merge, () => new CellModelLayer(forward), () => new CellModelLayer(backward));
    }

    /// <summary>Appends a bidirectional pair of feedforward LMU layers (see <see cref="AddBidirectional(LmuCellOptions, LmuCellOptions?, BidirectionalMerge)"/>):
    /// step t of the output is [forward layer's output at t after steps 0…t, backward layer's after steps L−1…t].</summary>
    /// <param name="forward">The forward layer; its input size must equal <see cref="Width"/>.</param>
    /// <param name="backward">The backward layer (the same options as <paramref name="forward"/> when null).</param>
    /// <param name="merge">How the two outputs are joined at each step (as for cells).</param>
    /// <returns>This model.</returns>
    /// <exception cref="ArgumentException">Wrong input size, a dense layer was already added, or a sum or mean of
    /// halves with different units.</exception>
    /// <exception cref="InvalidOperationException">The model was already used.</exception>
    /// <remarks>Both memories run by <see cref="SequenceMethod"/> (the scan or step by step), the backward one over the
    /// reversed input. As the last LMU layer of a model that outputs at the last step only, the output is [forward
    /// output at the last real step, backward output after the whole sequence]; the forward layer then still runs its
    /// whole sequence (no impulse-product shortcut inside the pair).</remarks>
    public LmuModel AddBidirectional(FeedforwardLmuOptions forward, FeedforwardLmuOptions? backward = null, BidirectionalMerge merge = BidirectionalMerge.Concat)
    {
        ArgumentNullException.ThrowIfNull(forward);
        backward ??= forward;
        return AddPair(forward.InputSize, backward.InputSize, merge,
            () => new FeedforwardModelLayer(forward) { SequenceMethod = _sequenceMethod },
            () => new FeedforwardModelLayer(backward) { SequenceMethod = _sequenceMethod });
    }

    /// <summary>Appends a dense layer to the head.</summary>
    /// <param name="units">Outputs.</param>
    /// <param name="activation">Activation (linear by default).</param>
    /// <returns>This model.</returns>
    /// <exception cref="InvalidOperationException">The model was already used.</exception>
    public LmuModel AddDense(int units, Activation activation = Activation.Linear)
    {
        using var scope = new OperationScope(this);
        ThrowIfBuilt();
        _layers.Add(new DenseModelLayer(Width, units, activation));
        return this;
    }

    /// <summary>Appends inverted dropout: in training each value is zeroed with probability <paramref name="rate"/> and
    /// the others scaled by 1/(1 − rate), a new mask every mini-batch; <see cref="Predict(float[], int, int, int, CancellationToken)"/>, <see cref="Evaluate"/> and
    /// streams pass values through. Before the dense head it acts on the sequence between LMU layers (per step and
    /// unit); after a dense layer, in the head.</summary>
    /// <param name="rate">The drop probability, 0 ≤ rate &lt; 1.</param>
    /// <returns>This model.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rate"/> is outside [0, 1) or NaN.</exception>
    /// <exception cref="InvalidOperationException">The model was already used.</exception>
    /// <remarks>The masks come from a counter-based generator keyed by the model's seed and the layer's position, so a
    /// training run is reproducible and drops the same values on every device.</remarks>
    public LmuModel AddDropout(double rate)
    {
        using var scope = new OperationScope(this);
        ThrowIfBuilt();
        if (!(rate >= 0 && rate < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "The dropout rate must lie in [0, 1).");
        }

        bool sequence = _layers.All(l => l.IsSequence);
        ulong seed = ((ulong)(uint)_seed << 32) | (uint)_layers.Count;
        _layers.Add(new DropoutModelLayer(Width, rate, sequence, seed));
        return this;
    }

    /// <summary>A one-line-per-layer description with parameter counts.</summary>
    /// <returns>The text.</returns>
    public string Summary()
    {
        var lines = new List<string>();
        foreach (var layer in _layers)
        {
            lines.Add(layer switch
            {
                CellModelLayer c => $"LMU cell: n_x={c.Options.InputSize} n={c.Options.Units} k={c.Options.MemoryChannels} d={c.Options.Order} θ={c.Options.Theta:G4} {c.Options.Activation.ToString().ToLowerInvariant()} ({c.TrainableCount:N0} params)",
                BidirectionalModelLayer { ForwardLayer: CellModelLayer c, BackwardLayer: CellModelLayer r } b => $"Bidirectional LMU cells: n_x={c.Options.InputSize} n={c.Options.Units}+{r.Options.Units} d={c.Options.Order}/{r.Options.Order} θ={c.Options.Theta:G4}/{r.Options.Theta:G4}{MergeText(b)} ({layer.TrainableCount:N0} params)",
                BidirectionalModelLayer { ForwardLayer: FeedforwardModelLayer f, BackwardLayer: FeedforwardModelLayer r } b => $"Bidirectional LMU feedforward: n_x={f.Options.InputSize} n={f.Options.Units}+{r.Options.Units} d={f.Options.Order}/{r.Options.Order} θ={f.Options.Theta:G4}/{r.Options.Theta:G4}{MergeText(b)} ({layer.TrainableCount:N0} params)",
                FeedforwardModelLayer f => $"LMU feedforward: n_x={f.Options.InputSize} n={f.Options.Units} k={f.Options.MemoryChannels} d={f.Options.Order} θ={f.Options.Theta:G4} {f.Options.Activation.ToString().ToLowerInvariant()} ({f.TrainableCount:N0} params)",
                DenseModelLayer d => $"Dense: {d.InputWidth}→{d.OutputWidth} {d.Activation.ToString().ToLowerInvariant()} ({d.TrainableCount:N0} params)",
                DropoutModelLayer o => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Dropout: {o.InputWidth} rate={o.Rate:G4} ({(o.IsSequence ? "sequence" : "head")})"),
                _ => layer.GetType().Name,
            });
        }

        lines.Add($"Total trainable parameters: {ParameterCount:N0}");
        return string.Join(Environment.NewLine, lines);
    }

    private static string MergeText(BidirectionalModelLayer pair) =>
        pair.Merge == BidirectionalMerge.Concat ? string.Empty : $" merge={pair.Merge.ToString().ToLowerInvariant()}";

    /// <summary>Copies the flat parameter vector (layer by layer, each in its documented order).</summary>
    /// <returns>A new array.</returns>
    public float[] GetParameters()
    {
        using var scope = new OperationScope(this);
        EnsureBuilt();
        var result = _backend.Download(_params!.All);
        _backend.Synchronize();
        return result;
    }

    /// <summary>Overwrites the flat parameter vector and resets the optimiser state.</summary>
    /// <param name="parameters">Exactly <see cref="ParameterVectorLength"/> finite values.</param>
    /// <exception cref="ArgumentException">Wrong length or a non-finite value.</exception>
    public void SetParameters(ReadOnlySpan<float> parameters)
    {
        using var scope = new OperationScope(this);
        EnsureBuilt();
        if (parameters.Length != _params!.Length)
        {
            throw new ArgumentException($"The model has {_params.Length} parameters; {parameters.Length} were given.", nameof(parameters));
        }

        LinearMemory.ThrowIfNotFinite(parameters, nameof(parameters));
        _backend.Upload(_params.All, parameters);
        foreach (var layer in _layers)
        {
            layer.Prepare(_backend, parameters.Slice(layer.Offset, layer.ParameterLength));
        }

        ResetOptimizer();
    }

    /// <summary>Overwrites one LMU cell layer's weights (for a task-specific initialisation, as the paper's psMNIST
    /// model) and resets the optimiser state.</summary>
    /// <param name="layerIndex">0-based index of an LMU cell layer.</param>
    /// <param name="weights">Weights with the layer's exact options.</param>
    /// <exception cref="ArgumentException">The layer is not an LMU cell, or the options differ.</exception>
    public void SetCellWeights(int layerIndex, LmuCellWeights weights)
    {
        using var scope = new OperationScope(this);
        ArgumentNullException.ThrowIfNull(weights);
        EnsureBuilt();
        ArgumentOutOfRangeException.ThrowIfNegative(layerIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layerIndex, _layers.Count);
        if (_layers[layerIndex] is not CellModelLayer cell || cell.Options != weights.Options)
        {
            throw new ArgumentException($"Layer {layerIndex} is not an LMU cell with these options.", nameof(weights));
        }

        float[] all = GetParameters();
        weights.ToFlat().CopyTo(all, cell.Offset);
        SetParameters(all);
    }

    /// <summary>Runs the model.</summary>
    /// <param name="inputs">[N, T, n_x].</param>
    /// <param name="count">N.</param>
    /// <param name="steps">T.</param>
    /// <param name="batchSize">Sequences per launch.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <returns>[N, T, O] with <see cref="ReturnSequences"/>, else [N, O].</returns>
    /// <exception cref="ArgumentException">Lengths do not match.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; nothing is
    /// returned.</exception>
    public float[] Predict(float[] inputs, int count, int steps, int batchSize = 64, CancellationToken cancellationToken = default) =>
        Predict(inputs, count, steps, null, batchSize, cancellationToken);

    /// <summary>Runs the model over sequences of different lengths, padded at the end to T steps.</summary>
    /// <param name="inputs">[N, T, n_x]; sequence i's steps from <paramref name="lengths"/>[i] on are padding.</param>
    /// <param name="count">N.</param>
    /// <param name="steps">T.</param>
    /// <param name="lengths">[N], each in 1 … T, or null for all T.</param>
    /// <param name="batchSize">Sequences per launch.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <returns>[N, T, O] with <see cref="ReturnSequences"/> (the rows of padding steps hold what the model gives
    /// there, and the real steps never depend on them), else [N, O] at each sequence's last real step.</returns>
    /// <exception cref="ArgumentException">Lengths do not match, or a length is outside 1 … T.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; nothing is
    /// returned.</exception>
    public float[] Predict(float[] inputs, int count, int steps, int[]? lengths, int batchSize = 64, CancellationToken cancellationToken = default)
    {
        using var scope = new OperationScope(this);
        ArgumentNullException.ThrowIfNull(inputs);
        var data = SequenceDataset.ForRegression(inputs, new float[(long)count * (ReturnSequences ? steps : 1) * OutputSize], count, steps, InputSize, OutputSize, ReturnSequences);
        if (lengths is not null)
        {
            data = data.WithLengths(lengths);
        }

        CheckData(data);
        int outPer = (ReturnSequences ? steps : 1) * OutputSize;
        var result = new float[(long)count * outPer];
        batchSize = Math.Clamp(batchSize, 1, count);
        if (ReturnSequences && IsCausal && Truncates(LongSequenceWindow, steps))
        {
            PredictInWindows(inputs, count, steps, batchSize, result, cancellationToken);
            return result;
        }

        EnsureWorkspace(batchSize, steps);
        var staging = new float[(long)batchSize * steps * InputSize];
        bool trim = data.Lengths is not null && !ReturnSequences && TrimsToLongest(steps);
        for (int start = 0; start < count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int b = Math.Min(batchSize, count - start);
            int full = steps * InputSize;

            // A last-step model's batch of shorter sequences runs to its longest (per-step outputs keep every step).
            int run = trim ? System.Numerics.Tensors.TensorPrimitives.Max<int>(data.Lengths!.AsSpan(start, b)) : steps;
            int per = run * InputSize;
            for (int i = 0; i < b; i++)
            {
                inputs.AsSpan((start + i) * full, per).CopyTo(staging.AsSpan(i * per));
            }

            _backend.Upload(_seqActs[0].Sub(0, (long)b * per), staging.AsSpan(0, b * per));
            if (data.Lengths is not null)
            {
                _backend.UploadLabels(_lengths!, data.Lengths.AsSpan(start, b));
            }

            var output = ForwardPass(b, run, data.Lengths is null ? null : _lengths);
            _backend.Download(output.Sub(0, (long)b * outPer), result.AsSpan(start * outPer, b * outPer));
        }

        _backend.Synchronize();
        return result;
    }

    /// <summary>Sequences longer than this run through <see cref="Predict(float[], int, int, int[], int, CancellationToken)"/>
    /// and <see cref="Evaluate(SequenceDataset, int, int, CancellationToken)"/> in windows of this many steps, each from
    /// the states the one before left (per-step outputs of a causal model): the same outputs and losses, in the memory
    /// of a window (2¹⁴ steps; tests set a short one).</summary>
    internal int LongSequenceWindow { get; set; } = 1 << 14;

    /// <summary>Per-step outputs of sequences run in windows of <see cref="LongSequenceWindow"/> steps carrying the
    /// states.</summary>
    private void PredictInWindows(float[] inputs, int count, int steps, int batchSize, float[] result, CancellationToken cancellationToken)
    {
        int window = LongSequenceWindow;
        EnsureWorkspace(batchSize, window);
        var staging = new float[(long)batchSize * window * InputSize];
        var output = new float[(long)batchSize * window * OutputSize];
        for (int start = 0; start < count; start += batchSize)
        {
            int b = Math.Min(batchSize, count - start);
            ClearCarried(b);
            foreach (var w in Windows(steps, window))
            {
                cancellationToken.ThrowIfCancellationRequested();
                int per = w.Steps * InputSize;
                for (int i = 0; i < b; i++)
                {
                    inputs.AsSpan(((start + i) * steps * InputSize) + (w.First * InputSize), per).CopyTo(staging.AsSpan(i * per));
                }

                _backend.Upload(_seqActs[0].Sub(0, (long)b * per), staging.AsSpan(0, b * per));
                var y = ForwardPass(b, w.Steps, null, _carried);
                int outRows = w.Steps * OutputSize;
                _backend.Download(y.Sub(0, (long)b * outRows), output.AsSpan(0, b * outRows));
                for (int i = 0; i < b; i++)
                {
                    output.AsSpan(i * outRows, outRows).CopyTo(result.AsSpan(((start + i) * steps * OutputSize) + (w.First * OutputSize)));
                }
            }
        }

        _backend.Synchronize();
    }

    /// <summary>Mean loss and accuracy over a dataset.</summary>
    /// <param name="data">The data (regression targets matching the outputs, or labels).</param>
    /// <param name="batchSize">Sequences per launch.</param>
    /// <param name="lossFromStep">Per-step targets: first counted step.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <returns>The evaluation.</returns>
    /// <exception cref="ArgumentException">The data does not fit the model.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Evaluation Evaluate(SequenceDataset data, int batchSize = 64, int lossFromStep = 0, CancellationToken cancellationToken = default) =>
        EvaluateInWindows(data, batchSize, lossFromStep,
            ReturnSequences && data.SequenceTargets && IsCausal ? LongSequenceWindow : 0, cancellationToken);

    /// <summary><see cref="Evaluate(SequenceDataset, int, int, CancellationToken)"/>, in windows of
    /// <paramref name="truncatedSteps"/> steps carrying the states (the same losses, in a window's memory) where that
    /// is shorter than the sequences.</summary>
    private Evaluation EvaluateInWindows(SequenceDataset data, int batchSize, int lossFromStep, int truncatedSteps, CancellationToken cancellationToken)
    {
        using var scope = new OperationScope(this);
        ArgumentNullException.ThrowIfNull(data);
        CheckData(data);
        CheckLengths(data, lossFromStep, nameof(data));
        batchSize = Math.Clamp(batchSize, 1, data.Count);
        bool windows = Truncates(truncatedSteps, data.Steps);
        EnsureWorkspace(batchSize, windows ? truncatedSteps : data.Steps);
        // With lengths, sequences of similar length share a batch (each batch runs to its longest); the mean is the same.
        int[] indices = data.Lengths is { } lengths
            ? [.. Enumerable.Range(0, data.Count).OrderBy(i => lengths[i])]
            : [.. Enumerable.Range(0, data.Count)];
        double loss = 0;
        double weight = 0;
        long correct = 0;
        for (int start = 0; start < data.Count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int b = Math.Min(batchSize, data.Count - start);
            var batchIndices = indices.AsSpan(start, b);
            if (windows)
            {
                ClearCarried(b);
                foreach (var w in BatchWindows(data, batchIndices, truncatedSteps))
                {
                    long counted = WindowCounted(data, batchIndices, w, lossFromStep);
                    double windowLoss = LoadAndForwardLoss(data, batchIndices, lossFromStep, w).Loss;
                    loss += windowLoss * counted;
                    weight += counted;
                }

                continue;
            }

            var (batchLoss, batchCorrect, _) = LoadAndForwardLoss(data, batchIndices, lossFromStep);
            double batchWeight = LossWeight(data, batchIndices, lossFromStep);
            loss += batchLoss * batchWeight;
            weight += batchWeight;
            correct += batchCorrect;
        }

        return new Evaluation(loss / weight, data.IsClassification ? (double)correct / data.Count : double.NaN);
    }

    /// <summary>Trains on mini-batches.</summary>
    /// <param name="train">Training data.</param>
    /// <param name="options">Settings.</param>
    /// <param name="validation">Optional validation data, evaluated after every epoch.</param>
    /// <param name="cancellationToken">Checked before every mini-batch and every validation batch.</param>
    /// <returns>Per-epoch results.</returns>
    /// <exception cref="ArgumentException">The data does not fit the model (input size, sequence length, target
    /// shape, label range), or <see cref="FitOptions.EarlyStoppingPatience"/> is set without a validation set.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range, or
    /// <see cref="FitOptions.LearningRateSchedule"/> gave a rate that is not a finite number &gt; 0 (the epochs before it
    /// keep their weights).</exception>
    /// <exception cref="TrainingDivergedException">The loss or gradient norm became NaN or infinite; the weights
    /// were restored to the last good epoch (also on disk when checkpointing).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled. The model keeps
    /// the weights and optimiser state of the last completed mini-batch (a later <see cref="Fit"/> continues from them);
    /// <see cref="FitOptions.KeepBestValidation"/> does not restore anything, and the checkpoint file, if any, still holds
    /// the last epoch it was written for.</exception>
    /// <remarks>A mini-batch that has started always completes: cancellation takes effect between mini-batches, so the
    /// weights are never left half-updated.</remarks>
    public IReadOnlyList<EpochResult> Fit(SequenceDataset train, FitOptions options, SequenceDataset? validation = null, CancellationToken cancellationToken = default)
    {
        using var scope = new OperationScope(this);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Epochs, 1, nameof(options.Epochs));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1, nameof(options.BatchSize));
        CheckOptimizer(options);

        CheckData(train);
        if (validation is not null)
        {
            CheckData(validation);
        }

        ArgumentOutOfRangeException.ThrowIfNegative(options.EarlyStoppingPatience, nameof(options.EarlyStoppingPatience));
        if (options.BucketByLength && train.Lengths is null)
        {
            throw new ArgumentException("BucketByLength needs training data with per-sequence lengths (SequenceDataset.WithLengths).", nameof(options));
        }

        if (options.EarlyStoppingPatience > 0 && validation is null)
        {
            throw new ArgumentException("EarlyStoppingPatience needs a validation set.", nameof(validation));
        }

        if (options.LossFromStep < 0 || (options.LossFromStep > 0 && (!ReturnSequences || options.LossFromStep >= train.Steps)))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.LossFromStep, $"LossFromStep must be in 0…{train.Steps - 1} and needs per-step outputs.");
        }

        CheckLengths(train, options.LossFromStep, nameof(train));
        if (validation is not null)
        {
            CheckLengths(validation, options.LossFromStep, nameof(validation));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(options.TruncatedSteps, nameof(options.TruncatedSteps));
        int window = Truncates(options.TruncatedSteps, train.Steps) ? options.TruncatedSteps : train.Steps;
        if (window < train.Steps || (validation is not null && Truncates(options.TruncatedSteps, validation.Steps)))
        {
            CheckTruncation(train);
        }

        if (SequenceLength == 0)
        {
            SequenceLength = train.Steps;
        }

        int batchSize = Math.Min(options.BatchSize, train.Count);
        EnsureWorkspace(batchSize, window);
        var rng = new Random(options.Seed);
        var order = Enumerable.Range(0, train.Count).ToArray();
        int batches = (train.Count + batchSize - 1) / batchSize;
        int[] batchOrder = [.. Enumerable.Range(0, batches)];
        if (options.MaxBatchesPerEpoch > 0)
        {
            batches = Math.Min(batches, options.MaxBatchesPerEpoch);
        }

        var history = new List<EpochResult>();
        float[] lastGood = GetParameters();
        int lastGoodEpoch = 0;
        double bestValidation = double.PositiveInfinity;
        int epochsWithoutImprovement = 0;
        float[]? bestParameters = null;
        var clock = Stopwatch.StartNew();
        long sequencesDone = 0;
        long totalSequences = (long)options.Epochs * batches * batchSize;
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            var epochOptions = options.LearningRateSchedule is { } schedule ? options with { LearningRate = ScheduledRate(schedule, epoch) } : options;
            if (options.Shuffle)
            {
                rng.Shuffle(order);
            }

            if (options.BucketByLength)
            {
                int[] lengths = train.Lengths!;
                order = [.. order.OrderBy(i => lengths[i])];
                if (options.Shuffle)
                {
                    rng.Shuffle(batchOrder);
                }
            }

            double lossSum = 0;
            double lossWeight = 0;
            long correct = 0;
            int seen = 0;
            for (int batch = 0; batch < batches; batch++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int start = batchOrder[batch] * batchSize;
                int b = Math.Min(batchSize, train.Count - start);
                double loss;
                int batchCorrect;
                double norm;
                try
                {
                    (loss, batchCorrect, norm) = TrainStep(train, order.AsSpan(start, b), epochOptions);
                }
                catch (TrainingDivergedException e)
                {
                    SetParameters(lastGood);
                    string saved = options.CheckpointPath is null || lastGoodEpoch == 0 ? string.Empty : $" (saved in '{options.CheckpointPath}')";
                    throw new TrainingDivergedException(
                        $"Training diverged at epoch {epoch}, batch {batch + 1}: {e.Message}. The weights were restored to the last good checkpoint " +
                        $"({(lastGoodEpoch == 0 ? "the initial weights" : $"end of epoch {lastGoodEpoch}")}){saved}. Lower the learning rate or set a clip norm.");
                }

                double weight = LossWeight(train, order.AsSpan(start, b), options.LossFromStep);
                lossSum += loss * weight;
                lossWeight += weight;
                correct += batchCorrect;
                seen += b;
                sequencesDone += b;
                if (options.Progress is not null)
                {
                    double elapsed = clock.Elapsed.TotalSeconds;
                    double rate = sequencesDone / Math.Max(elapsed, 1e-9);
                    double remaining = (totalSequences - sequencesDone) / Math.Max(rate, 1e-9);
                    options.Progress(new TrainingProgress(epoch, options.Epochs, batch + 1, batches, lossSum / lossWeight,
                        train.IsClassification ? (double)correct / seen : double.NaN, rate, clock.Elapsed, TimeSpan.FromSeconds(Math.Min(remaining, 1e7))));
                }
            }

            var val = validation is null ? new Evaluation(double.NaN, double.NaN) : EvaluateInWindows(validation, batchSize, options.LossFromStep, options.TruncatedSteps, cancellationToken);
            history.Add(new EpochResult(epoch, lossSum / lossWeight, train.IsClassification ? (double)correct / seen : double.NaN, val.Loss, val.Accuracy, epochClock.Elapsed.TotalSeconds)
            {
                LearningRate = epochOptions.LearningRate,
            });
            lastGood = GetParameters();
            lastGoodEpoch = epoch;
            bool improved = validation is null || val.Loss < bestValidation;
            if (validation is not null && val.Loss < bestValidation)
            {
                bestValidation = val.Loss;
                bestParameters = options.KeepBestValidation ? lastGood : null;
                epochsWithoutImprovement = 0;
            }
            else
            {
                epochsWithoutImprovement++;
            }

            if (options.CheckpointPath is not null && improved)
            {
                SaveCheckpoint(options.CheckpointPath);
            }

            if (options.EarlyStoppingPatience > 0 && epochsWithoutImprovement >= options.EarlyStoppingPatience)
            {
                break;
            }
        }

        if (bestParameters is not null)
        {
            SetParameters(bestParameters);
        }

        return history;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        using var scope = new OperationScope(this);
        if (_disposed)
        {
            return;
        }

        DisposeStreams();
        DisposeTrainers();
        _disposed = true;
        foreach (var layer in _layers)
        {
            layer.Dispose();
        }

        DisposeWorkspace();
        _params?.Dispose();
        _grads?.Dispose();
        _adamM?.Dispose();
        _adamV?.Dispose();
        _backend.Dispose();
    }

    /// <summary>The parameter vector with uniform noise in [−<paramref name="width"/>/2, <paramref name="width"/>/2)
    /// added to every value but the θs (for gradient checks and self-tests: the initialisers leave biases and some
    /// encoders at zero). Nothing is set.</summary>
    /// <param name="seed">Seed of the noise.</param>
    /// <param name="width">Width of the noise interval.</param>
    /// <returns>A new array.</returns>
    internal float[] ParametersWithNoise(int seed, double width)
    {
        float[] parameters = GetParameters();
        var thetas = _layers.SelectMany(l => l.Parts).OfType<LmuMemoryLayer>().Select(l => l.ThetaIndex).ToHashSet();
        var random = new Random(seed);
        for (int i = 0; i < parameters.Length; i++)
        {
            if (!thetas.Contains(i))
            {
                parameters[i] += (float)((random.NextDouble() - 0.5) * width);
            }
        }

        return parameters;
    }

    /// <summary>Computes the mean loss of the given sequences and the gradient of every parameter (for tests and
    /// gradient checks); nothing is updated.</summary>
    /// <param name="data">The data.</param>
    /// <param name="indices">The sequences of the batch.</param>
    /// <param name="lossFromStep">Per-step targets: first counted step.</param>
    /// <param name="gradients">Receives the gradient of every parameter.</param>
    /// <param name="initialStates">Where given, every sequence layer starts from these states (as
    /// <see cref="LmuModelStream.GetStates"/> lays them out) and no gradient flows into them, as in a window of truncated
    /// backpropagation through time (<see cref="FitOptions.TruncatedSteps"/>).</param>
    internal double ComputeGradients(SequenceDataset data, ReadOnlySpan<int> indices, int lossFromStep, float[] gradients, float[]? initialStates = null)
    {
        CheckData(data);
        EnsureWorkspace(indices.Length, data.Steps);
        _backend.Clear(_grads!.All);
        Window? window = null;
        if (initialStates is not null)
        {
            ClearCarried(indices.Length);
            long offset = 0;
            var layers = SequenceLayers;
            for (int s = 0; s < layers.Count; s++)
            {
                long length = layers[s].StreamStateLength(indices.Length);
                _backend.Upload(_carried[s].Sub(0, length), initialStates.AsSpan((int)offset, (int)length));
                offset += length;
            }

            window = new Window(0, data.Steps, _carried);
        }

        var (loss, _, ran) = LoadAndForwardLoss(data, indices, lossFromStep, window);
        BackwardPass(indices.Length, ran);
        _backend.Download(_grads.All, gradients);
        _backend.Synchronize();
        return loss;
    }

    private (double Loss, int Correct, double Norm) TrainStep(SequenceDataset data, ReadOnlySpan<int> indices, FitOptions options)
    {
        if (!Truncates(options.TruncatedSteps, data.Steps))
        {
            return TrainStepProfiled(data, indices, options, null);
        }

        // Truncated BPTT: one optimiser step per window, each window from the states the one before left.
        ClearCarried(indices.Length);
        double lossSum = 0;
        double weight = 0;
        double norm = 0;
        foreach (var window in BatchWindows(data, indices, options.TruncatedSteps))
        {
            long counted = WindowCounted(data, indices, window, options.LossFromStep);
            if (counted == 0)
            {
                // Before the first counted step: the states move on, nothing is learnt.
                LoadAndForwardLoss(data, indices, options.LossFromStep, window);
                continue;
            }

            var (loss, _, windowNorm) = TrainStepProfiled(data, indices, options, window);
            lossSum += loss * counted;
            weight += counted;
            norm = Math.Max(norm, windowNorm);
        }

        return (lossSum / weight, 0, norm);
    }

    private (double Loss, int Correct, double Norm) TrainStepProfiled(SequenceDataset data, ReadOnlySpan<int> indices, FitOptions options, Window? window)
    {
        var profile = _backend.Profile;
        profile?.Begin(_backend);
        try
        {
            return TrainStepWithDropout(data, indices, options, profile, window);
        }
        finally
        {
            profile?.End();
        }
    }

    private (double Loss, int Correct, double Norm) TrainStepWithDropout(SequenceDataset data, ReadOnlySpan<int> indices, FitOptions options, StepProfile? profile, Window? window)
    {
        var dropouts = _layers.OfType<DropoutModelLayer>().ToList();
        _dropoutStep++;
        foreach (var dropout in dropouts)
        {
            dropout.Mode = (true, _dropoutStep);
        }

        try
        {
            return TrainStepWithMode(data, indices, options, profile, window);
        }
        finally
        {
            foreach (var dropout in dropouts)
            {
                dropout.Mode = (false, 0);
            }
        }
    }

    private (double Loss, int Correct, double Norm) TrainStepWithMode(SequenceDataset data, ReadOnlySpan<int> indices, FitOptions options, StepProfile? profile, Window? window)
    {
        _backend.Clear(_grads!.All);
        var (loss, correct, ran) = LoadAndForwardLoss(data, indices, options.LossFromStep, window);
        if (!double.IsFinite(loss))
        {
            throw new TrainingDivergedException($"the loss is {loss}");
        }

        BackwardPass(indices.Length, ran);
        double norm = Math.Sqrt(_backend.SumSquares(_grads.All));
        profile?.Mark("gradient norm");
        if (!double.IsFinite(norm))
        {
            throw new TrainingDivergedException($"the gradient norm is {norm}");
        }

        float scale = options.ClipNorm > 0 && norm > options.ClipNorm ? (float)(options.ClipNorm / norm) : 1f;
        if (options.WeightDecay > 0)
        {
            // Decoupled weight decay (AdamW): w ← w·(1 − lr·λ) before the gradient step, for every weight but the θs.
            // As w −= step·w: the SGD update with the weights as their own gradient.
            float decay = (float)(options.LearningRate * options.WeightDecay);
            foreach (var (offset, length) in DecayedRanges())
            {
                var range = _params!.Sub(offset, length);
                _backend.Sgd(range, range, decay);
            }
        }

        if (options.Optimizer == OptimizerKind.Adam)
        {
            _adamM ??= _backend.Allocate(_params!.Length, "Adam first moments");
            _adamV ??= _backend.Allocate(_params!.Length, "Adam second moments");
            _adamStep++;
            var p = new AdamParams((float)options.LearningRate, (float)options.Beta1, (float)options.Beta2, (float)options.Epsilon,
                (float)(1 - Math.Pow(options.Beta1, _adamStep)), (float)(1 - Math.Pow(options.Beta2, _adamStep)), scale);
            _backend.Adam(_params!.All, _grads.All, _adamM.All, _adamV.All, p);
        }
        else
        {
            _backend.Sgd(_params!.All, _grads.All, (float)options.LearningRate * scale);
        }

        profile?.Mark("optimizer");
        foreach (var layer in _layers)
        {
            layer.AfterUpdate(_backend, _params);
        }

        profile?.Mark("after update (θ: system rebuilt)");
        return (loss, correct, norm);
    }

    /// <summary>Uploads a batch, runs the forward pass and the loss (its gradient into the head's top). With per-sequence
    /// lengths the batch runs to its longest sequence only (the models are causal; the steps after every sequence's end
    /// would change nothing), except where the last layer takes the impulse product over all T steps.</summary>
    /// <param name="data">The data.</param>
    /// <param name="indices">The sequences of the batch.</param>
    /// <param name="lossFromStep">Per-step targets: first counted step.</param>
    /// <param name="window">Where given: only these steps of each sequence (per-step targets, no lengths), from the
    /// carried states (<see cref="ModelLayer.ForwardCarried"/>); the loss counts the window's steps from
    /// <paramref name="lossFromStep"/> on (0 and no gradient when it has none).</param>
    /// <returns>The mean loss, the correct count (classification) and the steps the batch ran (for the backward pass).</returns>
    private (double Loss, int Correct, int Steps) LoadAndForwardLoss(SequenceDataset data, ReadOnlySpan<int> indices, int lossFromStep, Window? window = null)
    {
        int b = indices.Length;
        int steps = window?.Steps ?? data.Steps;
        int first = window?.First ?? 0;
        LabelTensor? lengths = null;
        int[]? batchLengths = null;
        if (data.Lengths is not null)
        {
            batchLengths = new int[b];
            for (int i = 0; i < b; i++)
            {
                // In a window: the real steps inside it (0 once a sequence has ended).
                batchLengths[i] = Math.Clamp(data.Lengths[indices[i]] - first, 0, steps);
            }

            _backend.UploadLabels(_lengths!, batchLengths);
            lengths = _lengths;
            if (window is null && TrimsToLongest(data.Steps))
            {
                steps = batchLengths.Max();
            }
        }

        int full = data.Steps * InputSize;
        int per = steps * InputSize;
        var staging = new float[(long)b * per];
        for (int i = 0; i < b; i++)
        {
            data.Inputs.AsSpan((indices[i] * full) + (first * InputSize), per).CopyTo(staging.AsSpan(i * per));
        }

        _backend.Upload(_seqActs[0].Sub(0, staging.Length), staging);
        _backend.Profile?.Mark("data upload");
        var output = ForwardPass(b, steps, lengths, window?.States);
        int outRows = ReturnSequences ? b * steps : b;
        var grad = _lossGrad!.Sub(0, (long)outRows * OutputSize);
        if (data.IsClassification)
        {
            var labels = new int[b];
            for (int i = 0; i < b; i++)
            {
                labels[i] = data.Labels![indices[i]];
            }

            _backend.UploadLabels(_labels!, labels);
            var (sum, correct) = _backend.SoftmaxCrossEntropy(output.Sub(0, (long)b * OutputSize), _labels!, grad, b, OutputSize, 1f / b);
            _backend.Profile?.Mark("loss");
            return (sum / b, correct, steps);
        }

        int tfull = (data.SequenceTargets ? data.Steps : 1) * OutputSize;
        int tper = (data.SequenceTargets ? steps : 1) * OutputSize;
        var targets = new float[(long)b * tper];
        for (int i = 0; i < b; i++)
        {
            data.Targets!.AsSpan((indices[i] * tfull) + (first * OutputSize), tper).CopyTo(targets.AsSpan(i * tper));
        }

        if (window is not null)
        {
            // The window's steps from lossFromStep on; none counted leaves the loss at 0 and its gradient unused.
            lossFromStep = Math.Max(0, lossFromStep - first);
            if (lossFromStep >= steps)
            {
                return (0, 0, steps);
            }
        }

        _backend.Upload(_targets!.Sub(0, targets.Length), targets);
        if (data.SequenceTargets && lengths is not null)
        {
            // Only each sequence's real steps from lossFromStep on (every length exceeds it: CheckLengths; in a window
            // a sequence may have none, and a window none at all).
            long real = 0;
            foreach (int length in batchLengths!)
            {
                real += (long)Math.Max(0, length - lossFromStep) * OutputSize;
            }

            if (real == 0)
            {
                return (0, 0, steps);
            }

            double masked = _backend.SquaredError(output.Sub(0, targets.Length), _targets.Sub(0, targets.Length), grad, b, steps, OutputSize, lossFromStep, lengths, 1f / real);
            _backend.Profile?.Mark("loss");
            return (masked / real, 0, steps);
        }

        int fromElement = data.SequenceTargets ? lossFromStep * OutputSize : 0;
        long counted = (long)b * (tper - fromElement);
        double total = _backend.SquaredError(output.Sub(0, targets.Length), _targets.Sub(0, targets.Length), grad, tper, fromElement, 1f / counted);
        _backend.Profile?.Mark("loss");
        return (total / counted, 0, steps);
    }

    /// <summary>What a batch's mean loss stands for, to average batches: its counted elements for per-step targets with
    /// lengths (a batch's loss is the mean over its sequences' real steps), else its sequences (every sequence counts
    /// alike).</summary>
    private static double LossWeight(SequenceDataset data, ReadOnlySpan<int> indices, int lossFromStep)
    {
        if (data.Lengths is null || !data.SequenceTargets)
        {
            return indices.Length;
        }

        long counted = 0;
        foreach (int i in indices)
        {
            counted += data.Lengths[i] - lossFromStep;
        }

        return counted;
    }

    /// <summary>Whether a batch with per-sequence lengths runs only to its longest sequence: always, unless the last
    /// layer is a last-step feedforward layer that takes the impulse product, whose T-step matrix is built for the
    /// data's T.</summary>
    private bool TrimsToLongest(int steps) =>
        !(EndsWithLastStepLayer(SequenceLayers) && SequenceLayers[^1].NeedsAllSteps(steps));

    /// <summary>The forward pass over the batch in the workspace. With <paramref name="lengths"/> (each sequence's real
    /// steps) a last-step output is taken at each sequence's last real step; the backward pass that follows uses the
    /// same lengths.</summary>
    private Slice ForwardPass(int batch, int steps, LabelTensor? lengths = null, Tensor[]? carried = null)
    {
        int s = 0;
        var seqLayers = _layers.Where(l => l.IsSequence).ToList();
        bool lastStepLayer = EndsWithLastStepLayer(seqLayers);
        _activeLengths = lengths;
        foreach (var layer in seqLayers)
        {
            layer.Lengths = lengths;
        }

        foreach (var layer in seqLayers)
        {
            var y = lastStepLayer && s == seqLayers.Count - 1
                ? SeqSlice(_headActs[0], batch, 1, layer.OutputWidth)
                : SeqSlice(_seqActs[s + 1], batch, steps, layer.OutputWidth);
            if (carried is not null)
            {
                layer.ForwardCarried(_backend, ParamSlice(_params!, layer), SeqSlice(_seqActs[s], batch, steps, layer.InputWidth), y, batch, steps,
                    carried[s].Sub(0, layer.StreamStateLength(batch)));
            }
            else
            {
                layer.Forward(_backend, ParamSlice(_params!, layer), SeqSlice(_seqActs[s], batch, steps, layer.InputWidth), y, batch, steps);
            }

            _backend.Profile?.Mark($"forward {layer.GetType().Name} {s}");
            s++;
        }

        int headSteps = ReturnSequences ? steps : 1;
        if (!ReturnSequences && !lastStepLayer)
        {
            int width = _layers.Where(l => l.IsSequence).LastOrDefault()?.OutputWidth ?? InputSize;
            if (lengths is not null)
            {
                _backend.SelectAt(_seqActs[s].All, _headActs[0].All, batch, steps, width, lengths);
            }
            else
            {
                _backend.SelectLast(_seqActs[s].All, _headActs[0].All, batch, steps, width);
            }
        }

        int h = 0;
        foreach (var layer in _layers.Where(l => !l.IsSequence))
        {
            layer.Forward(_backend, ParamSlice(_params!, layer), SeqSlice(_headActs[h], batch, headSteps, layer.InputWidth), SeqSlice(_headActs[h + 1], batch, headSteps, layer.OutputWidth), batch, headSteps);
            _backend.Profile?.Mark($"forward {layer.GetType().Name} head {h}");
            h++;
        }

        return _headActs[h].All;
    }

    private void BackwardPass(int batch, int steps)
    {
        var seqLayers = _layers.Where(l => l.IsSequence).ToList();
        var headLayers = _layers.Where(l => !l.IsSequence).ToList();
        int headSteps = ReturnSequences ? steps : 1;
        int outRows = batch * headSteps;
        var top = _headGrads[headLayers.Count];
        if (!ReferenceEquals(top, _lossGrad))
        {
            throw new InvalidOperationException("Internal error: the loss gradient buffer is not the head's top gradient.");
        }

        for (int h = headLayers.Count - 1; h >= 0; h--)
        {
            var layer = headLayers[h];
            bool needInput = h > 0 || seqLayers.Count > 0;
            layer.Backward(_backend, ParamSlice(_params!, layer), ParamSlice(_grads!, layer),
                SeqSlice(_headActs[h], batch, headSteps, layer.InputWidth), SeqSlice(_headActs[h + 1], batch, headSteps, layer.OutputWidth),
                SeqSlice(_headGrads[h + 1], batch, headSteps, layer.OutputWidth), needInput ? SeqSlice(_headGrads[h], batch, headSteps, layer.InputWidth) : null, batch, headSteps);
            _backend.Profile?.Mark($"backward {layer.GetType().Name} head {h}");
        }

        int s = seqLayers.Count;
        bool lastStepLayer = EndsWithLastStepLayer(seqLayers);
        if (s > 0 && !ReturnSequences && !lastStepLayer)
        {
            int width = seqLayers[^1].OutputWidth;
            _backend.Clear(SeqSlice(_seqGrads[s], batch, steps, width));
            if (_activeLengths is { } lengths)
            {
                _backend.ScatterAt(SeqSlice(_headGrads[0], batch, 1, width), _seqGrads[s].All, batch, steps, width, lengths);
            }
            else
            {
                _backend.ScatterLast(SeqSlice(_headGrads[0], batch, 1, width), _seqGrads[s].All, batch, steps, width);
            }
        }

        for (int i = s - 1; i >= 0; i--)
        {
            var layer = seqLayers[i];
            bool lastStep = lastStepLayer && i == s - 1;
            var y = lastStep ? SeqSlice(_headActs[0], batch, 1, layer.OutputWidth) : SeqSlice(_seqActs[i + 1], batch, steps, layer.OutputWidth);
            var gradY = lastStep ? SeqSlice(_headGrads[0], batch, 1, layer.OutputWidth) : SeqSlice(_seqGrads[i + 1], batch, steps, layer.OutputWidth);
            layer.Backward(_backend, ParamSlice(_params!, layer), ParamSlice(_grads!, layer),
                SeqSlice(_seqActs[i], batch, steps, layer.InputWidth), y, gradY, i > 0 ? SeqSlice(_seqGrads[i], batch, steps, layer.InputWidth) : null, batch, steps);
            _backend.Profile?.Mark($"backward {layer.GetType().Name} {i}");
        }
    }

    /// <summary>True when the last LMU layer computes its output at the last step only (a feedforward or bidirectional
    /// layer in a model without per-step outputs): it writes straight into the head's input.</summary>
    private static bool EndsWithLastStepLayer(IReadOnlyList<ModelLayer> seqLayers) =>
        seqLayers.Count > 0 && seqLayers[^1].LastStepOnly;

    private static Slice ParamSlice(Tensor tensor, ModelLayer layer) => tensor.Sub(layer.Offset, layer.ParameterLength);

    private static Slice SeqSlice(Tensor tensor, int batch, int steps, int width) => tensor.Sub(0, (long)batch * steps * width);

    /// <summary>Steps [First, First + Steps) of a sequence: one window of truncated backpropagation through time.</summary>
    /// <param name="First">The window's first step in the data.</param>
    /// <param name="Steps">Its length.</param>
    /// <param name="States">The states it starts from and leaves, one tensor per sequence layer.</param>
    private readonly record struct Window(int First, int Steps, Tensor[] States);

    private static bool Truncates(int truncatedSteps, int steps) => truncatedSteps > 0 && truncatedSteps < steps;

    /// <summary>The windows of <paramref name="length"/> steps each over <paramref name="steps"/> (the last may be shorter).</summary>
    private IEnumerable<Window> Windows(int steps, int length)
    {
        for (int first = 0; first < steps; first += length)
        {
            yield return new Window(first, Math.Min(length, steps - first), _carried);
        }
    }

    /// <summary>The loss elements a window counts: the steps of each sequence inside it from
    /// <paramref name="lossFromStep"/> on and before the sequence's length, every output.</summary>
    private long WindowCounted(SequenceDataset data, ReadOnlySpan<int> indices, Window window, int lossFromStep)
    {
        long counted = 0;
        int from = Math.Max(window.First, lossFromStep);
        foreach (int i in indices)
        {
            int end = Math.Min(window.First + window.Steps, data.Lengths?[i] ?? data.Steps);
            counted += Math.Max(0, end - from);
        }

        return counted * OutputSize;
    }

    /// <summary>The windows a batch needs: those that start before its longest sequence ends.</summary>
    private IEnumerable<Window> BatchWindows(SequenceDataset data, ReadOnlySpan<int> indices, int length)
    {
        int longest = 0;
        foreach (int i in indices)
        {
            longest = Math.Max(longest, data.Lengths?[i] ?? data.Steps);
        }

        return Windows(longest, length).Select(w => w with { Steps = Math.Min(w.Steps, data.Steps - w.First) });
    }

    /// <summary>The states carried between windows, one tensor per sequence layer, zeroed for <paramref name="batch"/>
    /// sequences.</summary>
    private void ClearCarried(int batch)
    {
        var layers = SequenceLayers;
        if (_carried.Length != layers.Count || _carriedBatch < batch)
        {
            foreach (var t in _carried)
            {
                t.Dispose();
            }

            _carried = AllocateStates(batch, "carried states");
            _carriedBatch = batch;
        }

        ClearStates(_carried, batch);
    }

    /// <summary>Truncated training needs per-step targets, causal layers and no trainable Euler θ (its gradient reads
    /// m_(t−1), which a window's first step takes from before the window).</summary>
    private void CheckTruncation(SequenceDataset train)
    {
        CheckCarriedTraining(nameof(train));
        if (!train.SequenceTargets)
        {
            throw new ArgumentException("TruncatedSteps needs a model with outputs at every step (ReturnSequences) and targets at every step.", nameof(train));
        }
    }

    /// <summary>Training from carried states (truncated or online) needs outputs at every step, causal layers and no
    /// trainable Euler θ.</summary>
    private void CheckCarriedTraining(string parameter)
    {
        if (!ReturnSequences)
        {
            throw new ArgumentException("TruncatedSteps and online training need a model with outputs at every step (ReturnSequences) and targets at every step.", parameter);
        }

        if (!IsCausal)
        {
            throw new ArgumentException("TruncatedSteps and online training need causal layers: a bidirectional layer reads each sequence from its end.", parameter);
        }

        if (_layers.SelectMany(l => l.Parts).Any(l => l is CellModelLayer { Options: { TrainableTheta: true, Discretizer: Discretizer.Euler } }
            or FeedforwardModelLayer { Options: { TrainableTheta: true, Discretizer: Discretizer.Euler } }))
        {
            throw new ArgumentException("TruncatedSteps and online training cannot train θ under Euler (its gradient reads the state before each window); use zero-order hold or a fixed θ.", parameter);
        }
    }

    /// <summary>The optimiser settings: a finite learning rate &gt; 0, clip norm and weight decay ≥ 0.</summary>
    private static void CheckOptimizer(FitOptions options)
    {
        if (!(options.LearningRate > 0) || double.IsInfinity(options.LearningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.LearningRate, "The learning rate must be a finite number > 0.");
        }

        if (options.ClipNorm < 0 || double.IsNaN(options.ClipNorm))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ClipNorm, "The clip norm must be ≥ 0 (0: none).");
        }

        if (!(options.WeightDecay >= 0) || double.IsInfinity(options.WeightDecay))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.WeightDecay, "The weight decay must be a finite number ≥ 0 (0: none).");
        }
    }

    private void EnsureBuilt()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_params is not null)
        {
            return;
        }

        if (_layers.Count == 0)
        {
            throw new InvalidOperationException("The model has no layers; add an LMU or dense layer first.");
        }

        int offset = 0;
        foreach (var layer in _layers)
        {
            layer.Offset = offset;
            offset += layer.ParameterLength;
        }

        if (!ReturnSequences && _layers.LastOrDefault(l => l.IsSequence) is { SupportsLastStepOnly: true } last)
        {
            last.LastStepOnly = true;
        }

        var host = new float[offset];
        var rng = new Random(_seed);
        foreach (var layer in _layers)
        {
            layer.Initialize(host.AsSpan(layer.Offset, layer.ParameterLength), rng);
        }

        _params = _backend.Upload(host, "parameters");
        _grads = _backend.Allocate(offset, "gradients");
        foreach (var layer in _layers)
        {
            layer.Prepare(_backend, host.AsSpan(layer.Offset, layer.ParameterLength));
        }
    }

    /// <summary>The parameter ranges that weight decay shrinks: all of them between the θs.</summary>
    private IEnumerable<(long Offset, long Length)> DecayedRanges()
    {
        long start = 0;
        foreach (int theta in _layers.SelectMany(l => l.Parts).OfType<LmuMemoryLayer>().Select(l => l.ThetaIndex).Order())
        {
            if (theta > start)
            {
                yield return (start, theta - start);
            }

            start = theta + 1;
        }

        if (_params!.Length > start)
        {
            yield return (start, _params.Length - start);
        }
    }

    /// <summary>The learning rate <paramref name="schedule"/> gives for <paramref name="epoch"/>, checked.</summary>
    /// <exception cref="ArgumentOutOfRangeException">It is not a finite number &gt; 0; the epochs before keep their
    /// weights.</exception>
    private static double ScheduledRate(Func<int, double> schedule, int epoch)
    {
        double rate = schedule(epoch);
        if (!(rate > 0) || double.IsInfinity(rate))
        {
            throw new ArgumentOutOfRangeException(nameof(FitOptions.LearningRateSchedule), rate,
                $"The learning-rate schedule gave {rate} for epoch {epoch}; it must be a finite number > 0. The weights are those after epoch {epoch - 1}.");
        }

        return rate;
    }

    /// <summary>Sets the optimiser state read from a checkpoint (<see cref="SaveCheckpoint"/>).</summary>
    /// <param name="adamSteps">Adam steps taken.</param>
    /// <param name="dropoutSteps">The dropout masks' step.</param>
    /// <param name="moments">Adam's first then second moments (2 × <see cref="ParameterVectorLength"/> finite values), or null.</param>
    /// <exception cref="ArgumentException">A count is negative, or a moment is not finite (or a second moment negative).</exception>
    internal void RestoreOptimizer(long adamSteps, uint dropoutSteps, float[]? moments)
    {
        if (adamSteps < 0 || (moments is null && adamSteps > 0))
        {
            throw new ArgumentException($"the optimiser state claims {adamSteps} Adam steps {(moments is null ? "without their moments" : string.Empty)}");
        }

        if (moments is not null)
        {
            LinearMemory.ThrowIfNotFinite(moments, nameof(moments));
            int n = (int)_params!.Length;
            if (moments.Length != 2 * n)
            {
                throw new ArgumentException($"the optimiser state holds {moments.Length} moments; the model needs 2 × {n}");
            }

            foreach (float v in moments.AsSpan(n))
            {
                if (v < 0)
                {
                    throw new ArgumentException("a second moment is negative");
                }
            }

            _adamM ??= _backend.Allocate(n, "Adam first moments");
            _adamV ??= _backend.Allocate(n, "Adam second moments");
            _backend.Upload(_adamM.All, moments.AsSpan(0, n));
            _backend.Upload(_adamV.All, moments.AsSpan(n, n));
        }

        _adamStep = adamSteps;
        _dropoutStep = dropoutSteps;
    }

    /// <summary>Copies another model's weights and optimiser state into this one (to continue training it, as a resumed
    /// checkpoint); the models must have the same layers (<see cref="Summary"/>).</summary>
    /// <param name="source">The model to continue from, on any device.</param>
    /// <exception cref="ArgumentException">The models' layers differ.</exception>
    public void ContinueFrom(LmuModel source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Summary() != Summary())
        {
            throw new ArgumentException($"The source model's layers differ:{Environment.NewLine}{source.Summary()}", nameof(source));
        }

        float[] parameters = source.GetParameters();
        float[]? moments;
        long steps;
        uint dropout;
        using (new OperationScope(source))
        {
            moments = source._adamM is null ? null : [.. source._backend.Download(source._adamM.All), .. source._backend.Download(source._adamV!.All)];
            steps = source._adamStep;
            dropout = source._dropoutStep;
        }

        using var scope = new OperationScope(this);
        SetParameters(parameters);
        RestoreOptimizer(moments is null ? 0 : steps, dropout, moments);
    }

    /// <summary>Adam steps taken since the weights were last set (<see cref="SetParameters"/>), continued across
    /// <see cref="Fit"/> calls and restored from a checkpoint (<see cref="SaveCheckpoint"/>).</summary>
    public long OptimizerSteps => _adamStep;

    private void ResetOptimizer()
    {
        _adamStep = 0;
        if (_adamM is not null)
        {
            _backend.Clear(_adamM.All);
            _backend.Clear(_adamV!.All);
        }
    }

    private void EnsureWorkspace(int batch, int steps)
    {
        EnsureBuilt();
        // The workspace only grows: a run of fewer sequences or steps (a validation set of shorter sequences, a batch
        // trimmed to its longest sequence) uses the front of the buffers it has.
        if (batch <= _wsBatch && steps <= _wsSteps)
        {
            return;
        }

        batch = Math.Max(batch, _wsBatch);
        steps = Math.Max(steps, _wsSteps);
        DisposeWorkspace();
        _wsBatch = batch;
        _wsSteps = steps;
        var seqLayers = _layers.Where(l => l.IsSequence).ToList();
        var headLayers = _layers.Where(l => !l.IsSequence).ToList();
        long rows = (long)batch * steps;
        _seqActs = new Tensor[seqLayers.Count + 1];
        _seqGrads = new Tensor[seqLayers.Count + 1];
        _seqActs[0] = _backend.Allocate(rows * InputSize, "input batch");
        _seqGrads[0] = _backend.Allocate(1, "placeholder");
        for (int i = 0; i < seqLayers.Count; i++)
        {
            // A last-step layer writes into the head's input; its sequence buffers are never used.
            long outputRows = i == seqLayers.Count - 1 && EndsWithLastStepLayer(seqLayers) ? 1 : rows;
            _seqActs[i + 1] = _backend.Allocate(outputRows * seqLayers[i].OutputWidth, "layer outputs");
            _seqGrads[i + 1] = _backend.Allocate(outputRows * seqLayers[i].OutputWidth, "layer output gradients");
            seqLayers[i].EnsureWorkspace(_backend, batch, steps);
        }

        int seqWidth = seqLayers.Count > 0 ? seqLayers[^1].OutputWidth : InputSize;
        long headRows = ReturnSequences ? rows : batch;
        _headActs = new Tensor[headLayers.Count + 1];
        _headGrads = new Tensor[headLayers.Count + 1];
        if (ReturnSequences)
        {
            _headActs[0] = _seqActs[^1];
            _headGrads[0] = _seqGrads[^1];
        }
        else
        {
            _headActs[0] = _backend.Allocate(headRows * seqWidth, "last-step outputs");
            _headGrads[0] = _backend.Allocate(headRows * seqWidth, "last-step gradients");
        }

        for (int i = 0; i < headLayers.Count; i++)
        {
            _headActs[i + 1] = _backend.Allocate(headRows * headLayers[i].OutputWidth, "dense outputs");
            _headGrads[i + 1] = _backend.Allocate(headRows * headLayers[i].OutputWidth, "dense gradients");
            headLayers[i].EnsureWorkspace(_backend, batch, ReturnSequences ? steps : 1);
        }

        _lossGrad = _headGrads[^1];
        _targets = _backend.Allocate(headRows * OutputSize, "targets");
        _labels = _backend.AllocateLabels(batch);
        _lengths = _backend.AllocateLabels(batch);
    }

    private void DisposeWorkspace()
    {
        var all = new HashSet<Tensor>(_seqActs.Concat(_seqGrads).Concat(_headActs).Concat(_headGrads));
        foreach (var t in all)
        {
            t.Dispose();
        }

        _targets?.Dispose();
        _labels?.Dispose();
        _lengths?.Dispose();
        foreach (var t in _carried)
        {
            t.Dispose();
        }

        _carried = [];
        _carriedBatch = 0;
        _seqActs = _seqGrads = _headActs = _headGrads = [];
        _wsBatch = 0;
        _wsSteps = 0;
    }

    /// <summary>With per-step targets, every sequence must have real steps in the loss: a length above
    /// <paramref name="lossFromStep"/>.</summary>
    private static void CheckLengths(SequenceDataset data, int lossFromStep, string parameter)
    {
        if (data.Lengths is null || !data.SequenceTargets || lossFromStep == 0)
        {
            return;
        }

        int i = Array.FindIndex(data.Lengths, l => l <= lossFromStep);
        if (i >= 0)
        {
            throw new ArgumentException(
                $"Sequence {i} has {data.Lengths[i]} real steps, none of them counted from step {lossFromStep} on (the loss's first step); drop it or lower the first step.", parameter);
        }
    }

    private void CheckData(SequenceDataset data)
    {
        EnsureBuilt();
        if (data.InputSize != InputSize)
        {
            throw new ArgumentException($"The data has {data.InputSize} input features per step; the model expects {InputSize}.", nameof(data));
        }

        if (data.IsClassification)
        {
            if (ReturnSequences)
            {
                throw new ArgumentException("Classification needs a model that outputs at the last step only (returnSequences: false).", nameof(data));
            }

            if (data.Classes != OutputSize)
            {
                throw new ArgumentException($"The labels have {data.Classes} classes but the model has {OutputSize} outputs.", nameof(data));
            }
        }
        else if (data.TargetSize != OutputSize || data.SequenceTargets != ReturnSequences)
        {
            throw new ArgumentException(
                $"The targets are {(data.SequenceTargets ? "per step" : "per sequence")} with {data.TargetSize} values; the model outputs {OutputSize} values {(ReturnSequences ? "per step" : "per sequence")}.", nameof(data));
        }
    }

    private void CheckSequenceLayer(int inputSize)
    {
        ThrowIfBuilt();
        if (_layers.Any(l => !l.IsSequence))
        {
            throw new ArgumentException("LMU layers must come before the dense head.");
        }

        if (inputSize != Width)
        {
            throw new ArgumentException($"The layer takes {inputSize} inputs but the previous layer gives {Width}.");
        }
    }

    /// <summary>Appends a bidirectional pair once both halves' input sizes are checked (the layers are made only then:
    /// their constructors check their own options).</summary>
    private LmuModel AddPair(int forwardInput, int backwardInput, BidirectionalMerge merge, Func<LmuMemoryLayer> forward, Func<LmuMemoryLayer> backward)
    {
        using var scope = new OperationScope(this);
        if (!Enum.IsDefined(merge))
        {
            throw new ArgumentOutOfRangeException(nameof(merge), merge, "Unknown merge mode.");
        }

        CheckSequenceLayer(forwardInput);
        if (backwardInput != forwardInput)
        {
            throw new ArgumentException($"The backward layer takes {backwardInput} inputs but the forward layer takes {forwardInput}; both read the same input.", "backward");
        }

        _layers.Add(new BidirectionalModelLayer(forward(), backward(), merge));
        return this;
    }

    private void ThrowIfBuilt()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_params is not null)
        {
            throw new InvalidOperationException("Layers cannot be added once the model has been used.");
        }
    }

    internal void SetSequenceLength(int steps) => SequenceLength = steps;
}
