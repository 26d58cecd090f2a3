using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>
/// Inverted dropout (Srivastava et al. 2014): in training every value is zeroed with probability <see cref="Rate"/> and
/// the rest are scaled by 1/(1 − rate); in inference (<see cref="LmuModel.Predict(float[], int, int, int, CancellationToken)"/>, <see cref="LmuModel.Evaluate"/>,
/// streams) it passes its input on. Between LMU layers it drops per step and unit; in the head, per unit. The mask comes
/// from a counter-based generator keyed by the layer's seed and the training step (<see cref="DropoutKernels"/>), so the
/// backward pass recomputes it and every device drops the same values.
/// </summary>
internal sealed class DropoutModelLayer : ModelLayer
{
    public DropoutModelLayer(int width, double rate, bool isSequence, ulong seed)
    {
        InputWidth = width;
        OutputWidth = width;
        Rate = rate;
        IsSequence = isSequence;
        Seed = seed;
    }

    /// <summary>The probability that a value is dropped, in [0, 1).</summary>
    public double Rate { get; }

    /// <summary>The Philox key of the layer's masks.</summary>
    public ulong Seed { get; }

    /// <summary>Set by the model for the forward and backward pass of a training step: whether to drop, and the step
    /// number that selects the mask.</summary>
    public (bool Training, uint Step) Mode { get; set; }

    public override int ParameterLength => 0;

    public override long TrainableCount => 0;

    public override bool IsSequence { get; }

    public override void Initialize(Span<float> parameters, Random rng)
    {
    }

    public override void EnsureWorkspace(Backend backend, int batch, int steps)
    {
    }

    public override void Forward(Backend backend, Slice w, Slice x, Slice y, int batch, int steps) => Apply(backend, x, y);

    /// <remarks>The mask is diagonal, so the gradient goes through the forward pass's own mask.</remarks>
    public override void Backward(Backend backend, Slice w, Slice grad, Slice x, Slice y, Slice gradY, Slice? gradX, int batch, int steps)
    {
        if (gradX is Slice gx)
        {
            Apply(backend, gradY, gx);
        }
    }

    /// <summary>to = from·mask/(1 − rate) in training, else a copy.</summary>
    private void Apply(Backend backend, Slice from, Slice to)
    {
        if (Mode.Training && Rate > 0)
        {
            backend.Dropout(from, to, new DropoutParams(Seed, Mode.Step, (uint)Math.Min(uint.MaxValue, Math.Round(Rate * 4294967296.0)), (float)(1 / (1 - Rate))));
        }
        else
        {
            backend.Copy(from, to);
        }
    }
}
