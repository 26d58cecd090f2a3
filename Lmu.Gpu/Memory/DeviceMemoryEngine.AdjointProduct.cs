using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Memory;

namespace Lmu.Gpu;

/// <summary>The adjoint's input gradient without λ by two matrix products (<see cref="AdjointGemmKernels"/>).</summary>
internal sealed partial class DeviceMemoryEngine
{
    private AdjointWeights? _adjointWeights;

    /// <summary>Input gradients computed by the products since the engine was made (for tests and the self-test).</summary>
    internal int LastAdjointProducts { get; private set; }

    /// <summary>Whether an adjoint that writes no λ runs on the products: wherever phase C runs as a product
    /// (<see cref="StatesKernel"/> gemm or tf32; <c>$LMU_SCAN_STATES=steps</c> keeps the lock-step kernel).</summary>
    internal bool AdjointByProduct => StatesKernel != ScanStatesKernel.Steps;

    /// <summary>B̄ᵀ·λ_t for every step: the chunk starts from zero by one product, their reverse carries (phase B), then
    /// every step's input gradient by a second product from its chunk's gradients and the next chunk's carry. Chunks of
    /// the product phase C's length (<see cref="ChooseChunkLength(ScanStatesKernel, int, int, int)"/>).</summary>
    /// <param name="gradients">g [B, T, k, d].</param>
    /// <param name="steps">T.</param>
    /// <param name="chunkLength">L, or 0 for the product's rule.</param>
    /// <param name="inputGradient">B̄ᵀ·λ_t [B, T, k] (written).</param>
    /// <param name="initialGradient">Āᵀ·λ_0 [B·k, d] (written when not null: the chunk starts are then computed even
    /// for a single chunk, and λ_0, the first chunk's start, is read back).</param>
    private void AdjointInputGradientByProducts(ArrayView<float> gradients, int steps, int chunkLength, ArrayView<float> inputGradient,
        ArrayView<float>? initialGradient = null)
    {
        var plan = Plan(steps, chunkLength, ScanStatesKernel.Gemm);
        int d = _order;
        int l = plan.Plan.ChunkLength;
        int chunks = plan.Plan.Chunks;
        long columns = (long)_count * chunks;
        var weights = AdjointProductTables(l);
        var kernel = _kernels.AdjointProduct();
        int deviceSide = GemmGroupSide(_accelerator);
        bool starts = chunks > 1 || initialGradient is not null;
        ArrayView<float> carries = starts ? _workspace.Get(ScanScratch.AdjointCarries, columns * d, "adjoint carries") : _empty.View;
        var p = new AdjointProductParams(d, _channels, steps, l, chunks, columns, d, checked(l * d), 0, 0);
        if (starts)
        {
            Launch(kernel, weights.ChunkStarts.View, gradients, _empty.View, carries, p, deviceSide);
            if (chunks > 1)
            {
                AdjointCarries(plan, carries);
            }
        }

        Launch(kernel, weights.InputGradient.View, gradients, carries, inputGradient,
            p with { Rows = l, Depth = checked(d + (l * d)), CarryDepth = d, InputGradient = 1 }, deviceSide);
        LastAdjointProducts++;
        if (initialGradient is { } dm)
        {
            // λ_0 of memory n is its first chunk's start, row n·C of the carries.
            _accelerator.Synchronize();
            var first = new float[(long)_count * d];
            for (int n = 0; n < _count; n++)
            {
                carries.SubView((long)n * chunks * d, d).CopyToCPU(first.AsSpan(n * d, d));
            }

            FinishInitialGradient(first, dm);
        }
    }

    /// <summary>The adjoint without λ on caller-owned device views: B̄ᵀ·λ_t and Āᵀ·λ_0. By the chunk products for a scan
    /// where <see cref="AdjointByProduct"/>; else through a temporary λ on the device (the lock-step or sequential
    /// adjoint writes it). Synchronises before it returns.</summary>
    /// <param name="gradients">g [B, T, k, d].</param>
    /// <param name="steps">T.</param>
    /// <param name="scan">Scan (true) or sequential.</param>
    /// <param name="chunkLength">L, or 0 for the kernel's rule.</param>
    /// <param name="inputGradient">B̄ᵀ·λ_t [B, T, k].</param>
    /// <param name="initialGradient">Āᵀ·λ_0 [B, k, d].</param>
    internal void RunInputGradientOnDevice(ArrayView<float> gradients, int steps, bool scan, int chunkLength, ArrayView<float> inputGradient,
        ArrayView<float> initialGradient)
    {
        if (scan && AdjointByProduct)
        {
            AdjointInputGradientByProducts(gradients, steps, chunkLength, inputGradient, initialGradient);
            _accelerator.Synchronize();
            return;
        }

        using var owned = new OwnedBuffers();
        var lambda = DeviceBuffers.Allocate(_accelerator, gradients.Length, "adjoint states", owned);
        RunAdjointOnDevice(gradients, steps, scan, chunkLength, lambda.View, inputGradient, initialGradient);
    }

    /// <summary>Times <see cref="ScanInputGradient"/> device-resident (gradients uploaded and the output allocated
    /// once, one untimed run first), and returns the last run's input gradient.</summary>
    /// <param name="gradients">g [B, T, k, d].</param>
    /// <param name="steps">T.</param>
    /// <param name="chunkLength">L, or 0 for the kernel's rule.</param>
    /// <param name="repeats">Timed runs.</param>
    /// <param name="inputGradient">B̄ᵀ·λ_t [B, T, k] of the last run.</param>
    /// <returns>The run times in seconds.</returns>
    internal double[] MeasureInputGradient(ReadOnlySpan<float> gradients, int steps, int chunkLength, int repeats, out float[] inputGradient)
    {
        using var owned = new OwnedBuffers();
        var g = DeviceBuffers.Upload(_accelerator, gradients, owned);
        var du = DeviceBuffers.Allocate(_accelerator, (long)_count * steps, "input gradient", owned);
        var times = TimeRuns(repeats, () => ScanInputGradient(g.View, steps, du.View, chunkLength));
        inputGradient = du.GetAsArray1D();
        return times;
    }

    private void Launch(Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdjointProductParams, int> kernel,
        ArrayView<float> weights, ArrayView<float> gradients, ArrayView<float> carries, ArrayView<float> output, AdjointProductParams p, int deviceSide)
    {
        int side = BlockSide(deviceSide, p.Rows);
        int size = 8 * side;
        long blocks = ((p.Rows + size - 1) / size) * ((p.Columns + size - 1) / size);
        var config = new KernelConfig(new Index1D(checked((int)blocks)), new Index1D(side * side),
            SharedMemoryConfig.RequestDynamic<float>(ScanGemmKernels.SharedFloats(side)));
        kernel(config, weights, gradients, carries, output, p, side);
    }

    /// <summary>The two weight tables for chunks of <paramref name="chunkLength"/>, on the device for the engine's life
    /// (rebuilt when L changes).</summary>
    private AdjointWeights AdjointProductTables(int chunkLength)
    {
        if (_adjointWeights is { } cached && cached.ChunkLength == chunkLength)
        {
            return cached;
        }

        _adjointWeights?.Dispose();
        _adjointWeights = null;
        var owned = new OwnedBuffers();
        try
        {
            _adjointWeights = new AdjointWeights(chunkLength,
                DeviceBuffers.Upload(_accelerator, AdjointProductWeights.ChunkStarts(_system, chunkLength), owned),
                DeviceBuffers.Upload(_accelerator, AdjointProductWeights.InputGradient(_system, chunkLength), owned));
        }
        catch
        {
            owned.Dispose();
            throw;
        }

        return _adjointWeights;
    }

    private void ReleaseAdjointWeights()
    {
        _adjointWeights?.Dispose();
        _adjointWeights = null;
    }

    /// <summary>The adjoint products' weights on the device.</summary>
    private sealed record AdjointWeights(int ChunkLength, MemoryBuffer1D<float, Stride1D.Dense> ChunkStarts,
        MemoryBuffer1D<float, Stride1D.Dense> InputGradient) : IDisposable
    {
        public void Dispose()
        {
            ChunkStarts.Dispose();
            InputGradient.Dispose();
        }
    }
}
