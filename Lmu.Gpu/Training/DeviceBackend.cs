using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Kernels.Memory;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>The ILGPU path: every operation is a hand-written kernel; kernels are compiled on first use and cached.
/// Group sizes come from the accelerator's limits.</summary>
internal sealed partial class DeviceBackend : Backend
{
    private readonly Accelerator _acc;
    private readonly List<IDisposable> _scratch = [];
    private Action<Index1D, ArrayView<float>, ArrayView<float>, DropoutParams>? _dropout;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, CellParams>? _cellForward;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, CellParams>? _cellBackward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, OuterParams>? _outer;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, OuterParams, int>? _outerChunked;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int>? _columnSum;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, DenseParams>? _denseForward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, DenseParams>? _denseBackward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>? _activationBackward;
    private Action<Index1D, ArrayView<float>, int>? _activate;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>? _squaredError;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>? _softmax;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int>? _selectLast;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int>? _scatterLast;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamParams>? _adam;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, float>? _sgd;
    private Tensor? _lossScratch;
    private Tensor? _lossScratch2;

    public DeviceBackend(Accelerator accelerator)
    {
        _acc = accelerator;
        Memory = new DeviceMemorySequence(this);
    }

    public override bool IsHost => false;

    public Accelerator Accelerator => _acc;

    public override Tensor Allocate(long length, string what)
    {
        var buffer = DeviceBuffers.Allocate(_acc, length, what, null);
        buffer.MemSetToZero();
        return new Tensor(buffer, length);
    }

    public override LabelTensor AllocateLabels(int count) => new(_acc.Allocate1D<int>(Math.Max(1, count)));

    public override void UploadLabels(LabelTensor destination, ReadOnlySpan<int> labels) =>
        destination.Device!.View.AsContiguous().SubView(0, labels.Length).CopyFromCPU(labels);

    public override void Upload(Slice destination, ReadOnlySpan<float> source)
    {
        if (source.Length > 0)
        {
            destination.View.SubView(0, source.Length).CopyFromCPU(source);
        }
    }

    public override void Download(Slice source, Span<float> destination)
    {
        if (destination.Length > 0)
        {
            source.View.SubView(0, destination.Length).CopyToCPU(destination);
        }
    }

    public override void Clear(Slice slice)
    {
        if (slice.Length > 0)
        {
            slice.View.MemSetToZero();
        }
    }

    public override void Copy(Slice source, Slice destination)
    {
        if (source.Length > 0)
        {
            ArrayView1D<float, Stride1D.Dense> target = destination.View;
            target.CopyFrom(source.View);
        }
    }

    public override void Synchronize() => _acc.Synchronize();

    public int CellGroupSize(CellParams p) => DeviceBuffers.GroupSizeFor(_acc, Math.Max(p.Units, p.Channels * p.Order));

    public void CheckShared(int floats, string what)
    {
        long bytes = (long)floats * sizeof(float);
        if (bytes > _acc.MaxSharedMemoryPerGroup)
        {
            throw new InsufficientMemoryException(
                $"The {what} kernel needs {bytes:N0} bytes of shared memory per group; '{_acc.Name}' offers {_acc.MaxSharedMemoryPerGroup:N0}. Use fewer units or a smaller memory (k·d).");
        }
    }

    public override void CellForward(CellParams p, int batch, Slice w, Slice sys, Slice x, Slice stateH, Slice stateM, Slice hSeq, Slice mSeq, Slice uSeq)
    {
        _cellForward ??= DeviceKernels.GetOrLoad(_acc, CellKernels.Forward, a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, CellParams>(CellKernels.Forward));
        int group = CellGroupSize(p);
        int shared = CellKernels.ForwardSharedFloats(p.Units, p.Channels * p.Order, p.Channels, group);
        CheckShared(shared, "cell forward");
        var config = new KernelConfig(new Index1D(batch), new Index1D(group), SharedMemoryConfig.RequestDynamic<float>(shared));
        _cellForward(config, w.View, sys.View, x.View, stateH.View, stateM.View, hSeq.View, mSeq.View, uSeq.View, p);
    }

    public override void CellBackward(CellParams p, int batch, Slice w, Slice sys, Slice x, Slice hSeq, Slice mSeq, Slice uSeq, Slice gradH, Slice dZ, Slice dU, Slice dX, Slice thetaPartial)
    {
        _cellBackward ??= DeviceKernels.GetOrLoad(_acc, CellKernels.Backward, a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, CellParams>(CellKernels.Backward));
        int group = CellGroupSize(p);
        int shared = CellKernels.BackwardSharedFloats(p.Units, p.Channels * p.Order, p.Channels, group);
        CheckShared(shared, "cell backward");
        var config = new KernelConfig(new Index1D(batch), new Index1D(group), SharedMemoryConfig.RequestDynamic<float>(shared));
        _cellBackward(config, w.View, sys.View, x.View, hSeq.View, mSeq.View, uSeq.View, gradH.View, dZ.View, dU.View, dX.View, thetaPartial.View, p);
    }

    public override void Outer(OuterParams p, Slice dY, Slice x, Slice dW)
    {
        int elements = p.P * p.Q;
        if (elements == 0 || TryOuterProduct(p, dY, x, dW))
        {
            return;
        }

        // Enough threads to fill the device: split the B·T rows into chunks (at least 8 rows each) when one thread
        // per weight would leave it idle.
        long rows = (long)p.Batch * p.Steps;
        long capacity = (long)_acc.NumMultiprocessors * _acc.MaxNumThreadsPerMultiprocessor;
        long chunks = Math.Clamp((capacity + elements - 1) / elements, 1, Math.Max(1, rows / 8));
        chunks = Math.Min(chunks, Math.Max(1, int.MaxValue / elements));
        if (chunks <= 1)
        {
            _outer ??= DeviceKernels.GetOrLoad(_acc, TrainingKernels.Outer, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, OuterParams>(TrainingKernels.Outer));
            _outer(elements, dY.View, x.View, dW.View, p);
            return;
        }

        int chunkRows = (int)((rows + chunks - 1) / chunks);
        chunks = (rows + chunkRows - 1) / chunkRows;
        var partial = ReductionScratch(chunks * elements);
        _outerChunked ??= DeviceKernels.GetOrLoad(_acc, TrainingKernels.OuterChunked, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, OuterParams, int>(TrainingKernels.OuterChunked));
        _outerChunked((int)(chunks * elements), dY.View, x.View, partial.View, p, chunkRows);
        FinishChunks(partial, dW, (int)chunks, elements);
    }

    public override void ColumnSum(Slice dY, Slice db, int rows, int width)
    {
        if (width == 0 || TryColumnSumInChunks(dY, db, rows, width))
        {
            return;
        }

        _columnSum ??= DeviceKernels.GetOrLoad(_acc, ReductionKernels.ColumnSum, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(ReductionKernels.ColumnSum));
        _columnSum(width, dY.View, db.View, rows, width);
    }

    public override void DenseForward(DenseParams p, Slice x, Slice w, Slice bias, Slice y)
    {
        if (TryDenseForwardProduct(p, x, w, bias, y))
        {
            return;
        }

        _denseForward ??= DeviceKernels.GetOrLoad(_acc, TrainingKernels.DenseForward, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, DenseParams>(TrainingKernels.DenseForward));
        _denseForward(p.Rows * p.Out, x.View, w.View, bias.View, y.View, p);
    }

    public override void DenseBackwardInput(DenseParams p, Slice dZ, Slice w, Slice dX)
    {
        if (TryDenseBackwardInputProduct(p, dZ, w, dX))
        {
            return;
        }

        _denseBackward ??= DeviceKernels.GetOrLoad(_acc, TrainingKernels.DenseBackwardInput, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, DenseParams>(TrainingKernels.DenseBackwardInput));
        _denseBackward(p.Rows * p.In, dZ.View, w.View, dX.View, p);
    }

    public override void ActivationBackward(Slice y, Slice dY, Slice dZ, Activation activation)
    {
        _activationBackward ??= DeviceKernels.GetOrLoad(_acc, TrainingKernels.ActivationBackward, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(TrainingKernels.ActivationBackward));
        _activationBackward((int)y.Length, y.View, dY.View, dZ.View, (int)activation);
    }

    public override void ActivateInPlace(Slice y, Activation activation)
    {
        if (activation == Activation.Linear)
        {
            return;
        }

        _activate ??= DeviceKernels.GetOrLoad(_acc, TrainingKernels.ActivateInPlace, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int>(TrainingKernels.ActivateInPlace));
        _activate((int)y.Length, y.View, (int)activation);
    }

    public override double SquaredError(Slice y, Slice target, Slice dY, int stepsOut, int fromElement, float scale)
    {
        _squaredError ??= DeviceKernels.GetOrLoad(_acc, TrainingKernels.SquaredError, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>(TrainingKernels.SquaredError));
        var loss = Scratch(ref _lossScratch, y.Length, "loss scratch");
        _squaredError((int)y.Length, y.View, target.View, dY.View, loss.All.View, stepsOut, fromElement, scale);
        return Sum(loss.Sub(0, y.Length));
    }

    public override (double Loss, int Correct) SoftmaxCrossEntropy(Slice logits, LabelTensor labels, Slice dZ, int rows, int classes, float scale)
    {
        _softmax ??= DeviceKernels.GetOrLoad(_acc, TrainingKernels.SoftmaxCrossEntropy, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(TrainingKernels.SoftmaxCrossEntropy));
        var loss = Scratch(ref _lossScratch, rows, "loss scratch");
        var correct = Scratch(ref _lossScratch2, rows, "loss scratch");
        _softmax(rows, logits.View, labels.Device!.View, dZ.View, loss.All.View, correct.All.View, classes, scale);
        // correct holds 0 or 1 per row: its partial sums are exact integers in float32 (far below 2²⁴ per partial).
        return (Sum(loss.Sub(0, rows)), (int)Math.Round(Sum(correct.Sub(0, rows))));
    }

    public override void SelectLast(Slice src, Slice dst, int batch, int steps, int width)
    {
        _selectLast ??= DeviceKernels.GetOrLoad(_acc, TrainingKernels.SelectLast, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(TrainingKernels.SelectLast));
        _selectLast(batch * width, src.View, dst.View, steps, width);
    }

    public override void ScatterLast(Slice src, Slice dst, int batch, int steps, int width)
    {
        _scatterLast ??= DeviceKernels.GetOrLoad(_acc, TrainingKernels.ScatterLast, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(TrainingKernels.ScatterLast));
        _scatterLast(batch * width, src.View, dst.View, steps, width);
    }

    public override void Adam(Slice w, Slice grad, Slice m, Slice v, AdamParams p)
    {
        _adam ??= DeviceKernels.GetOrLoad(_acc, TrainingKernels.Adam, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamParams>(TrainingKernels.Adam));
        _adam((int)w.Length, w.View, grad.View, m.View, v.View, p);
    }

    public override void Dropout(Slice x, Slice y, DropoutParams p)
    {
        if (x.Length == 0)
        {
            return;
        }

        _dropout ??= DeviceKernels.GetOrLoad(_acc, DropoutKernels.Apply, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, DropoutParams>(DropoutKernels.Apply));
        _dropout((int)x.Length, x.View, y.View, p);
    }

    public override void Sgd(Slice w, Slice grad, float step)
    {
        _sgd ??= DeviceKernels.GetOrLoad(_acc, TrainingKernels.Sgd, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(TrainingKernels.Sgd));
        _sgd((int)w.Length, w.View, grad.View, step);
    }

    public override void Dispose()
    {
        _lossScratch?.Dispose();
        _lossScratch2?.Dispose();
        _productPartials?.Dispose();
        _reductionPartials?.Dispose();
        _noLengths?.Dispose();
        foreach (var s in _scratch)
        {
            s.Dispose();
        }
    }

    /// <summary>A device buffer kept between calls in <paramref name="tensor"/>, replaced by a larger one when it holds
    /// fewer than <paramref name="length"/> floats.</summary>
    private Tensor Scratch(ref Tensor? tensor, long length, string what)
    {
        if (tensor is null || tensor.Length < length)
        {
            tensor?.Dispose();
            tensor = null;
            tensor = Allocate(length, what);
        }

        return tensor;
    }

    /// <summary>Sequential device evaluation: the linear-memory sequence kernel forward, the adjoint kernel backward.</summary>
    private sealed class DeviceMemorySequence(DeviceBackend owner) : IMemorySequenceEngine
    {
        private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, MemorySequenceParams>? _forward;
        private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, MemoryAdjointParams>? _adjoint;

        public void Forward(int batch, int channels, int order, int steps, Slice sys, Slice u, Slice mSeq)
        {
            var acc = owner._acc;
            _forward ??= DeviceKernels.GetOrLoad(acc, LinearMemoryKernels.Sequence, a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, MemorySequenceParams>(LinearMemoryKernels.Sequence));
            int d = order;
            using var states = owner.Allocate((long)batch * channels * d, "memory states");
            var (group, parts) = DeviceMemoryEngine.SequenceShape(acc, d);

            // Āᵀ in shared memory where it fits, as LinearMemory's sequence runs do.
            bool matrixInShared = DeviceMemoryEngine.MatrixFitsShared(d, parts);
            int sharedFloats = ((2 + parts) * d) + (matrixInShared ? d * d : 0);
            var config = new KernelConfig(new Index1D(batch * channels), new Index1D(group), SharedMemoryConfig.RequestDynamic<float>(sharedFloats));
            _forward(config, sys.Sub((2 * d * d) + (2 * d), d * d).View, sys.Sub(d * d, d).View, states.All.View, states.All.View, u.View, mSeq.View,
                new MemorySequenceParams(d, channels, steps, 0, MemoryOutputMode.AllStates, parts, matrixInShared ? 1 : 0));
            acc.Synchronize();
        }

        public void Adjoint(MemoryAdjointParams p, int batch, Slice sys, Slice mSeq, Slice u, Slice gradM, Slice dU, Slice thetaPartial)
        {
            var acc = owner._acc;
            _adjoint ??= DeviceKernels.GetOrLoad(acc, TrainingKernels.MemoryAdjoint, a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, MemoryAdjointParams>(TrainingKernels.MemoryAdjoint));
            int group = DeviceBuffers.GroupSizeFor(acc, p.Order);
            int shared = (2 * p.Order) + group;
            owner.CheckShared(shared, "memory adjoint");
            var config = new KernelConfig(new Index1D(batch * p.Channels), new Index1D(group), SharedMemoryConfig.RequestDynamic<float>(shared));
            _adjoint(config, sys.View, mSeq.View, u.View, gradM.View, dU.View, thetaPartial.View, p);
        }
    }
}
