using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>A float buffer on the host (a managed array) or on the device (an ILGPU buffer).</summary>
internal sealed class Tensor : IDisposable
{
    public Tensor(float[] host)
    {
        Host = host;
        Length = host.Length;
    }

    public Tensor(MemoryBuffer1D<float, Stride1D.Dense> device, long length)
    {
        Device = device;
        Length = length;
    }

    public float[]? Host { get; }

    public MemoryBuffer1D<float, Stride1D.Dense>? Device { get; }

    public long Length { get; }

    public Slice All => new(this, 0, Length);

    public Slice Sub(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset + length > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Slice [{offset}, {offset + length}) is outside a tensor of {Length}.");
        }

        return new Slice(this, offset, length);
    }

    public void Dispose() => Device?.Dispose();
}

/// <summary>A range of a <see cref="Tensor"/>.</summary>
internal readonly record struct Slice(Tensor Tensor, long Offset, long Length)
{
    public Span<float> Span => Tensor.Host.AsSpan(checked((int)Offset), checked((int)Length));

    public ArrayView<float> View => Length == 0
        ? Tensor.Device!.View.SubView(0, 1)
        : Tensor.Device!.View.SubView(Offset, Length);

    public Slice Sub(long offset, long length) => Tensor.Sub(Offset + offset, length);
}

/// <summary>Integer labels on the host or the device.</summary>
internal sealed class LabelTensor : IDisposable
{
    public LabelTensor(int[] host) => Host = host;

    public LabelTensor(MemoryBuffer1D<int, Stride1D.Dense> device) => Device = device;

    public int[]? Host { get; }

    public MemoryBuffer1D<int, Stride1D.Dense>? Device { get; }

    public void Dispose() => Device?.Dispose();
}

/// <summary>
/// The memory-only sequence evaluation behind the feedforward LMU layer: forward m_t = Ā·m_{t−1} + B̄·u_t from zero
/// state, and the reverse-time adjoint λ_t = g_t + Āᵀλ_{t+1}, dL/du_t = B̄ᵀλ_t. This is the seam where a parallel
/// (chunked scan) evaluation replaces the sequential one.
/// </summary>
internal interface IMemorySequenceEngine
{
    /// <summary>mSeq [B, T, k, d] from u [B, T, k], starting from zero.</summary>
    void Forward(int batch, int channels, int order, int steps, Slice sys, Slice u, Slice mSeq);

    /// <summary>dU [B, T, k] from the direct gradients gradM [B, T, k, d]; θ partials [B·k] when asked.</summary>
    void Adjoint(MemoryAdjointParams p, int batch, Slice sys, Slice mSeq, Slice u, Slice gradM, Slice dU, Slice thetaPartial);
}

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

    public abstract void Adam(Slice w, Slice grad, Slice m, Slice v, AdamParams p);

    public abstract void Sgd(Slice w, Slice grad, float step);

    public abstract double SumSquares(Slice grad);

    public abstract void Dispose();
}
