using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>The device backend's primitives for batches of sequences of different lengths (<see cref="LengthKernels"/>).</summary>
internal sealed partial class DeviceBackend
{
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, int, float>? _squaredErrorLengths;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int>? _selectAt;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int>? _scatterAt;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, int>? _shiftSteps;

    public override double SquaredError(Slice y, Slice target, Slice dY, int batch, int steps, int width, int fromStep, LabelTensor lengths, float scale)
    {
        _squaredErrorLengths ??= DeviceKernels.GetOrLoad(_acc, LengthKernels.SquaredError, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, int, float>(LengthKernels.SquaredError));
        long length = (long)batch * steps * width;
        var loss = Scratch(ref _lossScratch, length, "loss scratch");
        _squaredErrorLengths((int)length, y.View, target.View, dY.View, loss.All.View, lengths.Device!.View, steps, width, fromStep, scale);
        return Sum(loss.Sub(0, length));
    }

    public override void SelectAt(Slice src, Slice dst, int batch, int steps, int width, LabelTensor lengths)
    {
        _selectAt ??= DeviceKernels.GetOrLoad(_acc, LengthKernels.SelectAt, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int>(LengthKernels.SelectAt));
        _selectAt(batch * width, src.View, dst.View, lengths.Device!.View, steps, width);
    }

    public override void ScatterAt(Slice src, Slice dst, int batch, int steps, int width, LabelTensor lengths)
    {
        _scatterAt ??= DeviceKernels.GetOrLoad(_acc, LengthKernels.ScatterAt, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int>(LengthKernels.ScatterAt));
        _scatterAt(batch * width, src.View, dst.View, lengths.Device!.View, steps, width);
    }

    public override void ShiftSteps(Slice src, Slice dst, int batch, int steps, int width, LabelTensor lengths, bool toEnd)
    {
        _shiftSteps ??= DeviceKernels.GetOrLoad(_acc, LengthKernels.Shift, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, int>(LengthKernels.Shift));
        _shiftSteps((int)((long)batch * steps * width), src.View, dst.View, lengths.Device!.View, steps, width, toEnd ? 1 : 0);
    }
}
