namespace Lmu.Gpu.Cli.SelfTest;

/// <summary>Finds every <see cref="ISelfTestSuite"/> in the CLI assembly and runs its cases.</summary>
internal static class SelfTestRegistry
{
    /// <summary>The suites, ordered by type name so the table is stable, those that run last (<see cref="ISelfTestSuite.RunsLast"/>)
    /// after the others.</summary>
    public static IReadOnlyList<ISelfTestSuite> Suites() =>
        typeof(SelfTestRegistry).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(ISelfTestSuite).IsAssignableFrom(t)
                        && t.GetConstructor(Type.EmptyTypes) is not null)
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => (ISelfTestSuite)Activator.CreateInstance(t)!)
            .OrderBy(s => s.RunsLast)
            .ToList();

    /// <summary>Every case of every suite for <paramref name="device"/>.</summary>
    public static IReadOnlyList<SelfTestCase> Cases(LmuDevice device) =>
        Suites().SelectMany(s => s.Cases(device)).ToList();
}
