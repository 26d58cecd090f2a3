using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Memory;

namespace Lmu.Gpu;

/// <summary>The ILGPU path of <see cref="LinearMemory"/>: Ā, B̄ and the states stay on the device.</summary>
internal sealed class DeviceMemoryEngine : IMemoryEngine
{
    private readonly Accelerator _accelerator;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _aT;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _bBar;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _states;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _empty;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, MemorySequenceParams> _kernel;
    private readonly int _order;
    private readonly int _count;
    private readonly int _channels;
    private readonly int _groupSize;

    public DeviceMemoryEngine(Accelerator accelerator, LmuSystem system, int batch, int channels)
    {
        _accelerator = accelerator;
        _order = system.Order;
        _channels = channels;
        _count = batch * channels;
        _groupSize = DeviceBuffers.GroupSizeFor(accelerator, _order);
        var owned = new List<IDisposable>();
        try
        {
            _aT = DeviceBuffers.Upload(accelerator, system.DiscreteATransposedSingle(), owned);
            _bBar = DeviceBuffers.Upload(accelerator, system.DiscreteBSingle(), owned);
            _states = DeviceBuffers.Allocate(accelerator, (long)_count * _order, "states", owned);
            _states.MemSetToZero();
            _empty = DeviceBuffers.Allocate(accelerator, 1, "scratch", owned);
            _kernel = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, MemorySequenceParams>(LinearMemoryKernels.Sequence);
        }
        catch
        {
            foreach (var buffer in owned)
            {
                buffer.Dispose();
            }

            throw;
        }
    }

    public void Step(ReadOnlySpan<float> input)
    {
        using var inputBuffer = DeviceBuffers.Allocate(_accelerator, input.Length, "input", null);
        inputBuffer.View.AsContiguous().CopyFromCPU(input);
        Launch(inputBuffer.View, _empty.View, 1, MemoryOutputMode.FinalOnly, _empty.View, 0);
        _accelerator.Synchronize();
    }

    public void GetStates(Span<float> destination)
    {
        _states.View.AsContiguous().CopyToCPU(destination);
    }

    public void SetStates(ReadOnlySpan<float> source) => _states.View.AsContiguous().CopyFromCPU(source);

    public void RunSequential(ReadOnlySpan<float> input, int steps, MemoryOutputMode mode, ReadOnlySpan<float> decoders, int delays, Span<float> output)
    {
        var owned = new List<IDisposable>();
        try
        {
            var inputBuffer = DeviceBuffers.Upload(_accelerator, input, owned);
            var decoderBuffer = decoders.IsEmpty ? _empty : DeviceBuffers.Upload(_accelerator, decoders, owned);
            var outputBuffer = output.IsEmpty ? _empty : DeviceBuffers.Allocate(_accelerator, output.Length, "output", owned);
            Launch(inputBuffer.View, outputBuffer.View, steps, mode, decoderBuffer.View, delays);
            if (!output.IsEmpty)
            {
                outputBuffer.View.AsContiguous().SubView(0, output.Length).CopyToCPU(output);
            }

            _accelerator.Synchronize();
        }
        finally
        {
            foreach (var buffer in owned)
            {
                buffer.Dispose();
            }
        }
    }

    public int ChooseChunkLength(int steps) => ScanPlan.ChooseChunkLength(steps, _count, _order, 8192);

    public bool PrefersScan(int steps, MemoryOutputMode mode) => false;

    public void RunScan(ReadOnlySpan<float> input, int steps, MemoryOutputMode mode, ReadOnlySpan<float> decoders, int delays, Span<float> output, int chunkLength) =>
        throw new NotSupportedException("not yet");

    public void RunAdjoint(ReadOnlySpan<float> gradients, int steps, bool scan, int chunkLength, Span<float> lambda, Span<float> inputGradient, Span<float> initialGradient) =>
        throw new NotSupportedException("not yet");

    public void Dispose()
    {
        _aT.Dispose();
        _bBar.Dispose();
        _states.Dispose();
        _empty.Dispose();
    }

    private void Launch(ArrayView<float> input, ArrayView<float> output, int steps, MemoryOutputMode mode, ArrayView<float> decoders, int delays)
    {
        var config = new KernelConfig(new Index1D(_count), new Index1D(_groupSize), SharedMemoryConfig.RequestDynamic<float>(2 * _order));
        _kernel(config, _aT.View, _bBar.View, decoders, _states.View, input, output,
            new MemorySequenceParams(_order, _channels, steps, delays, mode));
    }
}
