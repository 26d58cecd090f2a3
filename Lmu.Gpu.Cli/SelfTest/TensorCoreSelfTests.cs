namespace Lmu.Gpu.Cli.SelfTest;

/// <summary>Self-tests of the tensor-core phase C (3×TF32, <c>$LMU_SCAN_STATES=tf32</c>) on devices that run it (CUDA
/// sm_80 and later): first its inner step alone on a known tile (the mma fragments and the inline PTX), then the scan
/// with it at the scan suite's sizes, against the double-precision sequential reference. They run after every other
/// suite (<see cref="ISelfTestSuite.RunsLast"/>): a kernel new to the hardware that left the CUDA context broken would
/// otherwise fail the cases after it.</summary>
internal sealed class TensorCoreSelfTests : ISelfTestSuite
{
    /// <inheritdoc/>
    public bool RunsLast => true;

    /// <inheritdoc/>
    public IEnumerable<SelfTestCase> Cases(LmuDevice device)
    {
        if (device.IsHost || !DeviceMemoryEngine.SupportsTensorKernel(device.Accelerator))
        {
            yield break;
        }

        var (size, large) = ScanSelfTests.Sizes(device);
        yield return new SelfTestCase("scan", "tensor-core step: 8 warps x 48 mma on a known 128x128x16 tile",
            d => new SelfTestResult(TensorFragmentCheck.Run(d.Accelerator, 66), 1e-5));
        yield return new SelfTestCase("scan", $"all states, phase C on tensor cores {ScanSelfTests.Describe(size)}",
            d => ScanSelfTests.AllStates(d, size, ScanStatesKernel.Tensor));
        yield return new SelfTestCase("scan", $"decoded Q=2, phase C on tensor cores {ScanSelfTests.Describe(size)}",
            d => ScanSelfTests.Decoded(d, size, ScanStatesKernel.Tensor));
        yield return new SelfTestCase("scan", $"all states, phase C on tensor cores {ScanSelfTests.Describe(large)}",
            d => ScanSelfTests.AllStates(d, large, ScanStatesKernel.Tensor));

        // With phase C on tensor cores the window products run there too (forced: these sizes are below the auto rule's):
        // phase A and level 1 of the chained carries, then the window's carries.
        yield return new SelfTestCase("scan", $"all states, phase A and carries level 1 by the tensor-core window product {ScanSelfTests.Describe(size)}",
            d => ScanSelfTests.AllStates(d, size, ScanStatesKernel.Tensor, window: ScanWindowUse.Never, product: ProductUse.Always));
        yield return new SelfTestCase("scan", $"all states, window carries by the tensor-core window product {ScanSelfTests.Describe(size)}",
            d => ScanSelfTests.AllStates(d, size, ScanStatesKernel.Tensor, window: ScanWindowUse.Always, product: ProductUse.Always));
    }
}
