using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>The primitive operations training and the cell layer are built from, on the host or on a device.</summary>
internal abstract class Backend : IDisposable
{
    public abstract bool IsHost { get; }

    /// <summary>The memory-sequence engine (sequential by default).</summary>
    public IMemorySequenceEngine Memory { get; set; } = null!;

    public static Backend For(LmuDevice device) => device.IsHost ? new HostBackend() : new DeviceBackend(device.Accelerator);

    public abstract Tensor Allocate(long length, string what);

    public abstract LabelTensor AllocateLabels(int count);

    public abstract void UploadLabels(LabelTensor destination, ReadOnlySpan<int> labels);

    public abstract void Upload(Slice destination, ReadOnlySpan<float> source);

    public abstract void Download(Slice source, Span<float> destination);

    public abstract void Clear(Slice slice);

    /// <summary>destination ← source (equal lengths).</summary>
    public abstract void Copy(Slice source, Slice destination);

    public abstract void Synchronize();

    /// <summary>The profile of the current training step, or null (<c>lmu bench training --profile</c>); layers mark
    /// their parts on it.</summary>
    public StepProfile? Profile { get; set; }

    public Tensor Upload(ReadOnlySpan<float> data, string what)
    {
        var tensor = Allocate(data.Length, what);
        Upload(tensor.All, data);
        return tensor;
    }

    public float[] Download(Slice source)
    {
        var result = new float[source.Length];
        Download(source, result);
        return result;
    }

    public abstract void CellForward(CellParams p, int batch, Slice w, Slice sys, Slice x, Slice stateH, Slice stateM, Slice hSeq, Slice mSeq, Slice uSeq);

    public abstract void CellBackward(CellParams p, int batch, Slice w, Slice sys, Slice x, Slice hSeq, Slice mSeq, Slice uSeq, Slice gradH, Slice dZ, Slice dU, Slice dX, Slice thetaPartial);

    /// <summary>dW[P, Q] += Σ dY[b, t, :] ⊗ X[b, t − shift, :].</summary>
    public abstract void Outer(OuterParams p, Slice dY, Slice x, Slice dW);

    /// <summary>db[P] += column sums of dY[R, P].</summary>
    public abstract void ColumnSum(Slice dY, Slice db, int rows, int width);

    public abstract void DenseForward(DenseParams p, Slice x, Slice w, Slice bias, Slice y);

    public abstract void DenseBackwardInput(DenseParams p, Slice dZ, Slice w, Slice dX);

    public abstract void ActivationBackward(Slice y, Slice dY, Slice dZ, Activation activation);

    public abstract void ActivateInPlace(Slice y, Activation activation);

    /// <summary>Returns the summed squared error over the counted elements.</summary>
    public abstract double SquaredError(Slice y, Slice target, Slice dY, int stepsOut, int fromElement, float scale);

    /// <summary>Returns (summed loss, correct count).</summary>
    public abstract (double Loss, int Correct) SoftmaxCrossEntropy(Slice logits, LabelTensor labels, Slice dZ, int rows, int classes, float scale);

    public abstract void SelectLast(Slice src, Slice dst, int batch, int steps, int width);

    public abstract void ScatterLast(Slice src, Slice dst, int batch, int steps, int width);

    /// <summary>Squared error over each sequence's real steps (fromStep ≤ t &lt; lengths[b]) of y [B, T, O]; dY is 0
    /// elsewhere. Returns the summed squared error.</summary>
    public abstract double SquaredError(Slice y, Slice target, Slice dY, int batch, int steps, int width, int fromStep, LabelTensor lengths, float scale);

    /// <summary>dst [B, n] = src [B, T, n] at step lengths[b] − 1.</summary>
    public abstract void SelectAt(Slice src, Slice dst, int batch, int steps, int width, LabelTensor lengths);

    /// <summary>dst [B, T, n] at step lengths[b] − 1 = src [B, n]; the rest of dst must already be zero.</summary>
    public abstract void ScatterAt(Slice src, Slice dst, int batch, int steps, int width, LabelTensor lengths);

    /// <summary>dst [B, n] = src [B, T, n] at each sequence's last real step (T − 1 without <paramref name="lengths"/>).</summary>
    public void SelectFinal(Slice src, Slice dst, int batch, int steps, int width, LabelTensor? lengths)
    {
        if (lengths is null)
        {
            SelectLast(src, dst, batch, steps, width);
        }
        else
        {
            SelectAt(src, dst, batch, steps, width, lengths);
        }
    }

    /// <summary>dst [B, T, n] at each sequence's last real step (T − 1 without <paramref name="lengths"/>) = src [B, n];
    /// the rest of dst must already be zero.</summary>
    public void ScatterFinal(Slice src, Slice dst, int batch, int steps, int width, LabelTensor? lengths)
    {
        if (lengths is null)
        {
            ScatterLast(src, dst, batch, steps, width);
        }
        else
        {
            ScatterAt(src, dst, batch, steps, width, lengths);
        }
    }

    /// <summary>Moves each sequence's lengths[b] real steps to the end of its T steps (zeros before them), or with
    /// <paramref name="toEnd"/> false back to the start (zeros after them). src and dst [B, T, n] must not overlap.</summary>
    public abstract void ShiftSteps(Slice src, Slice dst, int batch, int steps, int width, LabelTensor lengths, bool toEnd);

    /// <summary>Moves a block of columns between [B, T, ·] tensors in time order or with each sequence's real steps
    /// reversed (<see cref="StepMoveKernels.Move"/>); without <paramref name="lengths"/> every sequence has T steps.
    /// src and dst must not overlap.</summary>
    public abstract void MoveSteps(Slice src, Slice dst, StepMoveParams p, LabelTensor? lengths);

    public abstract void Adam(Slice w, Slice grad, Slice m, Slice v, AdamParams p);

    public abstract void Sgd(Slice w, Slice grad, float step);

    /// <summary>y = x·mask/(1 − rate) (<see cref="DropoutKernels"/>); x and y may be the same slice.</summary>
    public abstract void Dropout(Slice x, Slice y, DropoutParams p);

    public abstract double SumSquares(Slice grad);

    public abstract void Dispose();
}
