using ILGPU;
using ILGPU.Runtime;

namespace Lmu.Gpu.Cli.SelfTest;

/// <summary>Self-tests of the chunked parallel scan: all states, final state, fused decoded outputs and the
/// reverse-time adjoint, each against a double-precision sequential reference, with T not a multiple of the chunk.</summary>
internal sealed class ScanSelfTests : ISelfTestSuite
{
    /// <inheritdoc/>
    public IEnumerable<SelfTestCase> Cases(LmuDevice device)
    {
        var (size, large) = Sizes(device);
        string describe = Describe(size);
        yield return new SelfTestCase("scan", $"all states {describe}", d => AllStates(d, size));
        yield return new SelfTestCase("scan", $"final state {describe}", d => FinalState(d, size));
        yield return new SelfTestCase("scan", $"decoded Q=2 {describe}", d => Decoded(d, size));
        yield return new SelfTestCase("scan", $"adjoint (reverse time, Āᵀ) {describe}", d => Adjoint(d, size));
        // An order divisible by 4 and larger takes the device kernels' other chunk-step tiling (at d = 256 on a GPU the
        // one that once asked for too many registers; at d = 20 on the simulator the double-buffered 4×4 tile).
        string text = Describe(large);
        yield return new SelfTestCase("scan", $"all states {text}", d => AllStates(d, large));
        yield return new SelfTestCase("scan", $"adjoint (reverse time, Āᵀ) {text}", d => Adjoint(d, large));
        if (!device.IsHost)
        {
            // Phase C as one matrix product (ScanGemmKernels), whichever kernel $LMU_SCAN_STATES picks by default.
            yield return new SelfTestCase("scan", $"all states, phase C product {describe}", d => AllStates(d, size, ScanStatesKernel.Gemm));
            yield return new SelfTestCase("scan", $"decoded Q=2, phase C product {describe}", d => Decoded(d, size, ScanStatesKernel.Gemm));
            yield return new SelfTestCase("scan", $"all states, phase C product {text}", d => AllStates(d, large, ScanStatesKernel.Gemm));

            // On a GPU these sizes run the carries in two levels (segments of chunks) and the simulator's in one
            // serial pass; these cases force each way on every device.
            yield return new SelfTestCase("scan", $"all states, one serial carry pass {describe}", d => AllStates(d, size, carrySegment: 0));
            yield return new SelfTestCase("scan", $"all states, carries in segments of 3 chunks {describe}", d => AllStates(d, size, carrySegment: 3));

            // The window start (ScanWindow): every chunk's carry from its last H inputs; from zero states, then a run
            // continued from the first one's final states, where the chunks whose windows reach step 0 stay chained.
            // (θ = T/8 here, and H ≈ 5·θ at d = 6: the simulator's window cases take d = 20, where H ≈ 3.2·θ.)
            var windowSize = SelfTestSizes.IsSimulator(device) ? (2, 1, 20, 150) : size;
            string windowText = Describe(windowSize);
            yield return new SelfTestCase("scan", $"all states, window carries {windowText}", d => AllStates(d, windowSize, window: ScanWindowUse.Always));
            yield return new SelfTestCase("scan", $"all states continued, window carries {windowText}", d => Continued(d, windowSize, ScanWindowUse.Always));
            yield return new SelfTestCase("scan", $"all states, window carries {text}", d => AllStates(d, large, window: ScanWindowUse.Always));

            // States from windows of inputs as one matrix product (WindowGemmKernels.WindowProduct): phase A's chunk
            // ends, the first level of the chained carries, and the window's carries, forced (on a GPU these sizes are below the product's block-per-SM rule).
            yield return new SelfTestCase("scan", $"all states, phase A by the window product {describe}",
                d => AllStates(d, size, window: ScanWindowUse.Never, product: ProductUse.Always));
            yield return new SelfTestCase("scan", $"all states, phase A by the window product {text}",
                d => AllStates(d, large, window: ScanWindowUse.Never, product: ProductUse.Always));
            yield return new SelfTestCase("scan", $"all states, carries in segments of 3 chunks, level 1 by the window product {describe}",
                d => AllStates(d, size, carrySegment: 3, window: ScanWindowUse.Never, product: ProductUse.Always));
            yield return new SelfTestCase("scan", $"all states, window carries by the window product {windowText}",
                d => AllStates(d, windowSize, window: ScanWindowUse.Always, product: ProductUse.Always));
            yield return new SelfTestCase("scan", $"all states continued, window carries by the window product {windowText}",
                d => Continued(d, windowSize, ScanWindowUse.Always, ProductUse.Always));

            // The overloads on ILGPU views: inputs and outputs stay in device memory.
            yield return new SelfTestCase("scan", $"all states on device views {describe}", d => AllStates(d, size, views: true));
            yield return new SelfTestCase("scan", $"adjoint on device views {describe}", d => Adjoint(d, size, views: true));

            // The adjoint without λ (a feedforward layer's backward pass with a fixed θ): ∂u = B̄ᵀ·λ_t by the two chunk
            // products (AdjointGemmKernels), and by the lock-step kernel.
            yield return new SelfTestCase("scan", $"adjoint input gradient by the chunk products {describe}", d => InputGradient(d, size, ScanStatesKernel.Gemm));
            yield return new SelfTestCase("scan", $"adjoint input gradient by the chunk products {text}", d => InputGradient(d, large, ScanStatesKernel.Gemm));
            yield return new SelfTestCase("scan", $"adjoint input gradient by the lock-step kernel {text}", d => InputGradient(d, large, ScanStatesKernel.Steps));
        }
    }

    /// <summary>The suite's two sizes (B, k, d, T): a small order, and an order divisible by 4 and larger (on a GPU,
    /// d = 256); small on the simulator.</summary>
    /// <param name="device">The device.</param>
    /// <returns>The sizes.</returns>
    internal static ((int B, int K, int D, int T) Size, (int B, int K, int D, int T) Large) Sizes(LmuDevice device) =>
        SelfTestSizes.IsSimulator(device) ? ((2, 1, 6, 150), (1, 1, 20, 120)) : ((8, 2, 64, 20_011), (4, 1, 256, 5_003));

    /// <summary>A size as the case names show it.</summary>
    /// <param name="s">The size.</param>
    /// <returns>"B=… k=… d=… T=…".</returns>
    internal static string Describe((int B, int K, int D, int T) s) => $"B={s.B} k={s.K} d={s.D} T={s.T}";

    /// <summary>A memory on <paramref name="device"/>, with the phase-C kernel and the carry segment (0: one serial
    /// pass) forced where given.</summary>
    private static LinearMemory Memory(LmuDevice device, LmuSystem system, int batch, int channels, ScanStatesKernel? kernel,
        int? carrySegment = null, ScanWindowUse? window = null, ProductUse? product = null)
    {
        var memory = new LinearMemory(device, system, batch, channels);
        if (memory.Engine is DeviceMemoryEngine engine)
        {
            engine.StatesKernel = kernel ?? engine.StatesKernel;
            engine.CarrySegment = carrySegment ?? engine.CarrySegment;
            engine.WindowUse = window ?? engine.WindowUse;
            engine.ProductUse = product ?? engine.ProductUse;
        }

        return memory;
    }

    /// <summary>Where a forced window cannot apply (2·H > T) the case would test the chained scan instead: it fails
    /// then rather than pass for the wrong reason.</summary>
    private static void RequireWindow(LinearMemory memory, ScanWindowUse? window, ProductUse? product = null)
    {
        if (window == ScanWindowUse.Always && memory.Engine is DeviceMemoryEngine { LastWindow: 0 })
        {
            throw new InvalidOperationException("The window start did not apply to this run (2·H > T).");
        }

        if (product == ProductUse.Always && memory.Engine is DeviceMemoryEngine { LastWindowProducts: 0 })
        {
            throw new InvalidOperationException("The window product did not run.");
        }
    }

    /// <summary>The sequences in two halves, the second continued from the first's final states, against the
    /// reference over the whole sequence; θ = T/16, so that each half holds twice the window.</summary>
    private static SelfTestResult Continued(LmuDevice device, (int B, int K, int D, int T) s, ScanWindowUse window,
        ProductUse? product = null)
    {
        var system = LmuSystem.Create(s.D, Math.Max(4.0, s.T / 16.0));
        float[] input = SelfTestSizes.Inputs((long)s.B * s.T * s.K, 25);
        int first = s.T / 2, second = s.T - first;
        var firstInput = new float[(long)s.B * first * s.K];
        var secondInput = new float[(long)s.B * second * s.K];
        for (int b = 0; b < s.B; b++)
        {
            Array.Copy(input, (long)b * s.T * s.K, firstInput, (long)b * first * s.K, (long)first * s.K);
            Array.Copy(input, ((long)b * s.T + first) * s.K, secondInput, (long)b * second * s.K, (long)second * s.K);
        }

        using var memory = Memory(device, system, s.B, s.K, null, window: window, product: product);
        memory.RunStates(firstInput, first, SequenceMethod.Scan);
        float[] states = memory.RunStates(secondInput, second, SequenceMethod.Scan);
        RequireWindow(memory, window, product);
        var all = ReferenceMemory.RunStates(system, input, s.B, s.T, s.K);
        var expected = new double[states.Length];
        long rowFloats = (long)s.K * s.D;
        for (int b = 0; b < s.B; b++)
        {
            Array.Copy(all, ((long)b * s.T + first) * rowFloats, expected, (long)b * second * rowFloats, second * rowFloats);
        }

        return new SelfTestResult(SelfTestResult.Relative(states, expected), MemorySelfTests.StateTolerance);
    }

    private static LmuSystem System(int order, int steps) => LmuSystem.Create(order, Math.Max(4.0, steps / 8.0));

    internal static SelfTestResult AllStates(LmuDevice device, (int B, int K, int D, int T) s, ScanStatesKernel? kernel = null, int? carrySegment = null,
        bool views = false, ScanWindowUse? window = null, ProductUse? product = null)
    {
        var system = System(s.D, s.T);
        float[] input = SelfTestSizes.Inputs((long)s.B * s.T * s.K, 21);
        using var memory = Memory(device, system, s.B, s.K, kernel, carrySegment, window, product);
        float[] states;
        if (views)
        {
            using var inputBuffer = device.Accelerator.Allocate1D(input);
            using var statesBuffer = device.Accelerator.Allocate1D<float>((long)s.B * s.T * s.K * s.D);
            memory.RunStates(inputBuffer.View, s.T, statesBuffer.View, SequenceMethod.Scan);
            states = statesBuffer.GetAsArray1D();
        }
        else
        {
            states = memory.RunStates(input, s.T, SequenceMethod.Scan);
        }

        RequireWindow(memory, window, product);
        return new SelfTestResult(SelfTestResult.Relative(states, ReferenceMemory.RunStates(system, input, s.B, s.T, s.K)), MemorySelfTests.StateTolerance);
    }

    private static SelfTestResult FinalState(LmuDevice device, (int B, int K, int D, int T) s)
    {
        var system = System(s.D, s.T);
        float[] input = SelfTestSizes.Inputs((long)s.B * s.T * s.K, 22);
        using var memory = new LinearMemory(device, system, s.B, s.K);
        var final = memory.RunFinalState(input, s.T, SequenceMethod.Scan);
        var all = ReferenceMemory.RunStates(system, input, s.B, s.T, s.K);
        var expected = new double[s.B * s.K * s.D];
        for (int b = 0; b < s.B; b++)
        {
            Array.Copy(all, (((long)b * s.T + s.T - 1) * s.K) * s.D, expected, b * s.K * s.D, s.K * s.D);
        }

        return new SelfTestResult(SelfTestResult.Relative(final, expected), MemorySelfTests.StateTolerance);
    }

    internal static SelfTestResult Decoded(LmuDevice device, (int B, int K, int D, int T) s, ScanStatesKernel? kernel = null)
    {
        var system = System(s.D, s.T);
        double[] delays = [1.0, 0.3];
        float[] input = SelfTestSizes.Inputs((long)s.B * s.T * s.K, 23);
        using var memory = Memory(device, system, s.B, s.K, kernel);
        var decoded = memory.RunDecoded(input, s.T, delays, SequenceMethod.Scan);
        var all = ReferenceMemory.RunStates(system, input, s.B, s.T, s.K);
        var expected = new double[decoded.Length];
        var c = ShiftedLegendre.EvaluateMany(s.D, delays);
        for (long row = 0; row < (long)s.B * s.T * s.K; row++)
        {
            for (int q = 0; q < delays.Length; q++)
            {
                double y = 0;
                for (int i = 0; i < s.D; i++)
                {
                    y += c[q * s.D + i] * all[row * s.D + i];
                }

                expected[row * delays.Length + q] = y;
            }
        }

        return new SelfTestResult(SelfTestResult.Relative(decoded, expected), MemorySelfTests.StateTolerance);
    }

    /// <summary>∂u = B̄ᵀ·λ_t of a device scan's adjoint without λ (<see cref="DeviceMemoryEngine.ScanInputGradient"/>)
    /// against the double recursion.</summary>
    private static SelfTestResult InputGradient(LmuDevice device, (int B, int K, int D, int T) s, ScanStatesKernel kernel)
    {
        var system = System(s.D, s.T);
        float[] gradients = SelfTestSizes.Inputs((long)s.B * s.T * s.K * s.D, 25);
        using var memory = new LinearMemory(device, system, s.B, s.K);
        var engine = (DeviceMemoryEngine)memory.Engine;
        engine.StatesKernel = kernel;
        var acc = device.Accelerator;
        using var g = acc.Allocate1D(gradients);
        using var du = acc.Allocate1D<float>((long)s.B * s.T * s.K);
        engine.ScanInputGradient(g.View, s.T, du.View, 0);
        if (kernel != ScanStatesKernel.Steps && engine.LastAdjointProducts == 0)
        {
            throw new InvalidOperationException("The input gradient was to run by the chunk products, but they never ran.");
        }

        double[] lambda = ReferenceAdjoint(system, gradients, s);
        int d = s.D;
        var expected = new double[(long)s.B * s.T * s.K];
        var b = system.DiscreteB;
        for (long row = 0; row < expected.Length; row++)
        {
            double sum = 0;
            for (int i = 0; i < d; i++)
            {
                sum += b[i] * lambda[(row * d) + i];
            }

            expected[row] = sum;
        }

        return new SelfTestResult(SelfTestResult.Relative(du.GetAsArray1D(), expected), MemorySelfTests.StateTolerance);
    }

    private static SelfTestResult Adjoint(LmuDevice device, (int B, int K, int D, int T) s, bool views = false)
    {
        var system = System(s.D, s.T);
        float[] gradients = SelfTestSizes.Inputs((long)s.B * s.T * s.K * s.D, 24);
        using var memory = new LinearMemory(device, system, s.B, s.K);
        float[] actual;
        if (views)
        {
            var acc = device.Accelerator;
            using var g = acc.Allocate1D(gradients);
            using var lambdaBuffer = acc.Allocate1D<float>(gradients.Length);
            using var du = acc.Allocate1D<float>((long)s.B * s.T * s.K);
            using var dm = acc.Allocate1D<float>(memory.StateLength);
            memory.RunAdjoint(g.View, s.T, lambdaBuffer.View, du.View, dm.View, SequenceMethod.Scan);
            actual = lambdaBuffer.GetAsArray1D();
        }
        else
        {
            actual = memory.RunAdjoint(gradients, s.T, SequenceMethod.Scan).Lambda;
        }

        return new SelfTestResult(SelfTestResult.Relative(actual, ReferenceAdjoint(system, gradients, s)), MemorySelfTests.StateTolerance);
    }

    /// <summary>λ_t = g_t + Āᵀ·λ_(t+1), λ_T = 0, in double, one sequence at a time.</summary>
    private static double[] ReferenceAdjoint(LmuSystem system, float[] gradients, (int B, int K, int D, int T) s)
    {
        int d = s.D;
        var a = system.DiscreteA;
        var expected = new double[gradients.Length];
        var lambda = new double[d];
        var next = new double[d];
        for (int b = 0; b < s.B; b++)
        {
            for (int c = 0; c < s.K; c++)
            {
                Array.Clear(lambda);
                for (int t = s.T - 1; t >= 0; t--)
                {
                    long offset = (((long)b * s.T + t) * s.K + c) * d;
                    for (int j = 0; j < d; j++)
                    {
                        double acc = gradients[offset + j];
                        for (int i = 0; i < d; i++)
                        {
                            acc += a[i * d + j] * lambda[i];
                        }

                        next[j] = acc;
                    }

                    (lambda, next) = (next, lambda);
                    lambda.CopyTo(expected, offset);
                }
            }
        }

        return expected;
    }
}
