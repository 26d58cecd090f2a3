using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>The device backend's column-block moves between [B, T, ·] tensors (<see cref="StepMoveKernels"/>).</summary>
internal sealed partial class DeviceBackend
{
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, StepMoveParams>? _moveSteps;
    private MemoryBuffer1D<int, Stride1D.Dense>? _noLengths;

    public override void MoveSteps(Slice src, Slice dst, StepMoveParams p, LabelTensor? lengths)
    {
        if (p.Elements == 0)
        {
            return;
        }

        if (p.Elements > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(p), p.Elements, "A step move handles at most 2³¹ − 1 elements.");
        }

        _moveSteps ??= DeviceKernels.GetOrLoad(_acc, StepMoveKernels.Move, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, StepMoveParams>(StepMoveKernels.Move));
        var view = lengths?.Device?.View ?? (_noLengths ??= _acc.Allocate1D<int>(1)).View;
        _moveSteps((int)p.Elements, src.View, dst.View, view, p with { UseLengths = lengths is null ? 0 : 1 });
    }
}
