namespace Lmu.Gpu.Cli.SelfTest;

/// <summary>One check of <c>lmu selftest</c>: runs a kernel family on a device against the host double reference.</summary>
/// <param name="Family">The kernel family (memory, scan, neurons, cell, …): the first column of the table.</param>
/// <param name="Name">What is checked, with its size, e.g. <c>sequence: all states B=8 k=1 d=64 T=2000</c>.</param>
/// <param name="Run">Runs the check on the device and returns its error and tolerance.</param>
internal sealed record SelfTestCase(string Family, string Name, Func<LmuDevice, SelfTestResult> Run);
