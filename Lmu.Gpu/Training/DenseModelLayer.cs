using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

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
