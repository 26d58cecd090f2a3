using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>A trainable layer: a slice of the model's flat parameter vector plus the forward and backward passes.</summary>
internal abstract class ModelLayer : IDisposable
{
    public int InputWidth { get; protected init; }

    public int OutputWidth { get; protected init; }

    /// <summary>Offset of this layer's parameters in the model's vector.</summary>
    public virtual int Offset { get; set; }

    /// <summary>The layers that hold parameters: this one, or the layers a wrapper runs (<see cref="BidirectionalModelLayer"/>).</summary>
    public virtual IEnumerable<ModelLayer> Parts => [this];

    /// <summary>Whether the layer can give its output at the last step only (<see cref="LastStepOnly"/>).</summary>
    public virtual bool SupportsLastStepOnly => false;

    /// <summary>Set by the model on its last sequence layer when the model outputs at the last step only (and the layer
    /// <see cref="SupportsLastStepOnly"/>): the output (and its gradient) is [B, n] at each sequence's last step.</summary>
    public bool LastStepOnly { get; set; }

    /// <summary>Whether a batch of <paramref name="steps"/> steps must run all of them even where every sequence is
    /// shorter (a last-step impulse product built for T steps), rather than only to its longest sequence.</summary>
    /// <param name="steps">T.</param>
    /// <returns>True to keep the batch's T steps.</returns>
    public virtual bool NeedsAllSteps(int steps) => false;

    /// <summary>Set by the model before each <see cref="Forward"/> and <see cref="Backward"/>: each sequence's real
    /// steps (<see cref="SequenceDataset.Lengths"/>), or null when every sequence has all T steps. Layers that read
    /// sequences backwards or take a last-step output use them.</summary>
    internal LabelTensor? Lengths { get; set; }

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

    /// <summary>Values of state a stream keeps for this layer between runs (<see cref="LmuModelStream"/>); 0 for layers
    /// without state.</summary>
    /// <param name="batch">B.</param>
    public virtual long StreamStateLength(int batch) => 0;

    /// <summary>The ranges of <see cref="StreamStateLength"/> that belong to sequence <paramref name="sequence"/> of
    /// <paramref name="batch"/> (for resetting one sequence of a stream).</summary>
    public virtual IEnumerable<(long Offset, long Length)> StreamStateRanges(int batch, int sequence) => [];

    /// <summary>As <see cref="Forward"/>, starting from <paramref name="state"/> (<see cref="StreamStateLength"/>
    /// values) instead of zero and leaving the final state there. Stateless layers run <see cref="Forward"/>.</summary>
    public virtual void ForwardStream(Backend backend, Slice w, Slice x, Slice y, int batch, int steps, Slice state) =>
        Forward(backend, w, x, y, batch, steps);

    /// <summary>As <see cref="Forward"/>, from <paramref name="state"/> (<see cref="StreamStateLength"/> values, as a
    /// stream keeps them) instead of zero, leaving the final state there and keeping what <see cref="Backward"/> needs:
    /// truncated backpropagation through time (<see cref="FitOptions.TruncatedSteps"/>), where the state carried from
    /// the previous window is a constant (no gradient flows into it). Stateless layers run <see cref="Forward"/>; the
    /// next <see cref="Forward"/> starts from zero again.</summary>
    public virtual void ForwardCarried(Backend backend, Slice w, Slice x, Slice y, int batch, int steps, Slice state) =>
        Forward(backend, w, x, y, batch, steps);

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
