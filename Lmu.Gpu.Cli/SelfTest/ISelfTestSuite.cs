namespace Lmu.Gpu.Cli.SelfTest;

/// <summary>
/// A group of self-test cases. Every non-abstract implementation in the CLI assembly with a parameterless
/// constructor is found by <see cref="SelfTestRegistry"/>, so a new kernel family adds one file here
/// (e.g. <c>ScanSelfTests.cs</c>) and touches nothing else.
/// </summary>
internal interface ISelfTestSuite
{
    /// <summary>The cases to run on <paramref name="device"/>; size them with <see cref="SelfTestSizes.IsSimulator"/>
    /// (ILGPU's CPU simulator is slow: keep those small).</summary>
    IEnumerable<SelfTestCase> Cases(LmuDevice device);

    /// <summary>Whether the suite runs after all others (kernels not yet proven on hardware, which could leave the
    /// device context broken for the cases after them).</summary>
    bool RunsLast => false;
}
