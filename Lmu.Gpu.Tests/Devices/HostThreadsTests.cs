using System.Reflection;
using System.Reflection.Emit;
using Lmu.Gpu;
using Lmu.Gpu.Training;
using Lmu.Spiking;

namespace Lmu.Gpu.Tests.Devices;

/// <summary><see cref="HostThreads"/>: the limit's default, its validation, that every parallel loop of the library
/// takes it, and that the host path gives the same results under a limit of 1 as under the default.</summary>
[TestFixture]
[NonParallelizable] // changes the process-wide limit and LMU_HOST_THREADS
public sealed class HostThreadsTests
{
    private static readonly Assembly[] LibraryAssemblies = [typeof(LmuDevice).Assembly, typeof(PoissonPopulation).Assembly];

    [TearDown]
    public void RestoreDefault() => HostThreads.Reset();

    [Test]
    public void Limit_DefaultsToProcessorCount_OrTheEnvironment()
    {
        string? saved = Environment.GetEnvironmentVariable(HostThreads.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(HostThreads.EnvironmentVariable, null);
            HostThreads.Reset();
            Assert.That(HostThreads.Limit, Is.EqualTo(Environment.ProcessorCount));
            Environment.SetEnvironmentVariable(HostThreads.EnvironmentVariable, " 3 ");
            HostThreads.Reset();
            Assert.That(HostThreads.Limit, Is.EqualTo(3));
            Assert.That(LmuDevice.ListDevices()[0].Multiprocessors, Is.EqualTo(3));
            HostThreads.Limit = 5;
            Assert.That(HostThreads.Limit, Is.EqualTo(5));
        }
        finally
        {
            Environment.SetEnvironmentVariable(HostThreads.EnvironmentVariable, saved);
        }
    }

    [TestCase("0")]
    [TestCase("-2")]
    [TestCase("two")]
    [TestCase("1.5")]
    public void Reset_ThrowsForABadEnvironmentValue_NamingTheVariable(string value)
    {
        string? saved = Environment.GetEnvironmentVariable(HostThreads.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(HostThreads.EnvironmentVariable, value);
            var e = Assert.Throws<ArgumentException>(HostThreads.Reset);
            Assert.That(e!.Message, Does.StartWith($"{HostThreads.EnvironmentVariable}='{value}'"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(HostThreads.EnvironmentVariable, saved);
        }
    }

    [TestCase(0)]
    [TestCase(-1)]
    public void Limit_ThrowsForLessThanOne(int value)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => HostThreads.Limit = value);
        Assert.That(e!.ParamName, Is.EqualTo("value"));
    }

    /// <summary>Reads the IL of every method of the library (lambdas and iterators included): a call to a
    /// <see cref="Parallel"/> loop without <see cref="ParallelOptions"/> would run on every core whatever the limit (the
    /// library's loops go through <c>HostThreads.For</c>, which passes them), and
    /// a read of <see cref="Environment.ProcessorCount"/> outside <see cref="HostThreads"/> would size work for cores the
    /// limit may not give.</summary>
    [Test]
    public void EveryParallelLoopOfTheLibrary_TakesTheLimit()
    {
        var unlimited = new List<string>();
        int loops = 0, limitedLoops = 0;
        foreach (var (method, callee) in LibraryCalls())
        {
            string where = $"{method.DeclaringType?.FullName}.{method.Name}";
            if (callee.DeclaringType == typeof(Parallel))
            {
                loops++;
                if (!callee.GetParameters().Any(p => p.ParameterType == typeof(ParallelOptions)))
                {
                    unlimited.Add($"{where} calls Parallel.{callee.Name} without ParallelOptions");
                }
            }
            else if (callee.DeclaringType == typeof(HostThreads) && callee.Name == "For")
            {
                limitedLoops++;
            }
            else if (callee.DeclaringType == typeof(Environment) && callee.Name == "get_ProcessorCount"
                     && method.DeclaringType != typeof(HostThreads))
            {
                unlimited.Add($"{where} reads Environment.ProcessorCount");
            }
        }

        Assert.That(unlimited, Is.Empty);
        Assert.That(loops, Is.GreaterThanOrEqualTo(3), "the IL reader found HostThreads.For's and the FFT's loops");
        Assert.That(limitedLoops, Is.GreaterThanOrEqualTo(25), "the IL reader found the library's loops");
    }

    [Test]
    public void HostPath_GivesTheSameResults_UnderALimitOfOne()
    {
        var (scan, sequential, trained, spikes) = HostWork();
        HostThreads.Limit = 1;
        var (scan1, sequential1, trained1, spikes1) = HostWork();

        Assert.That(MaxRelative(scan1, scan), Is.LessThanOrEqualTo(1e-5), "scan");
        Assert.That(sequential1, Is.EqualTo(sequential), "sequential (each memory's own loop, any thread)");
        Assert.That(MaxRelative(trained1, trained), Is.LessThanOrEqualTo(1e-4), "parameters after training");
        Assert.That(spikes1, Is.EqualTo(spikes), "Poisson counts (counter-based generator)");
    }

    private static (float[] Scan, float[] Sequential, float[] Trained, uint[] Spikes) HostWork()
    {
        using var device = LmuDevice.Open(AcceleratorKind.Cpu);
        var system = LmuSystem.Create(order: 16, theta: 300);
        const int batch = 7, steps = 3001;
        var input = new float[batch * steps];
        var random = new Random(5);
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (float)((2 * random.NextDouble()) - 1);
        }

        using var memory = new LinearMemory(device, system, batch, 1);
        float[] scan = memory.RunStates(input, steps, SequenceMethod.Scan);
        float[] sequential = memory.RunStates(input, steps, SequenceMethod.Sequential);

        const int count = 32, length = 40;
        var x = new float[count * length];
        var y = new float[count * length];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)((2 * random.NextDouble()) - 1);
            y[i] = i % length >= 3 ? x[i - 3] : 0;
        }

        using var model = new LmuModel(device, 1, returnSequences: true, seed: 3)
            .AddLmu(new LmuCellOptions { InputSize = 1, Units = 8, Order = 4, Theta = 6 })
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 8, Units = 8, Order = 6, Theta = 10 })
            .AddDense(1);
        model.Fit(SequenceDataset.ForRegression(x, y, count, length, 1, 1, sequenceTargets: true),
            new FitOptions { Epochs = 2, BatchSize = 16, LearningRate = 1e-2, Seed = 2 });

        using var neurons = PoissonPopulation.Create(device, 100_003, rateHz: 40, seed: 11);
        neurons.Run(50);
        return (scan, sequential, model.GetParameters(), neurons.GetCounts());
    }

    private static double MaxRelative(float[] actual, float[] expected)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        double scale = expected.Max(v => Math.Abs((double)v));
        return actual.Zip(expected, (a, e) => Math.Abs((double)a - e)).Max() / scale;
    }

    /// <summary>Every (method, callee) pair of the library assemblies' call and callvirt instructions.</summary>
    private static IEnumerable<(MethodBase Method, MethodBase Callee)> LibraryCalls()
    {
        var opCodes = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (OpCode)f.GetValue(null)!)
            .ToDictionary(o => (ushort)o.Value);
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var assembly in LibraryAssemblies)
        {
            foreach (var type in assembly.GetTypes())
            {
                foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
                {
                    byte[]? il = method.GetMethodBody()?.GetILAsByteArray();
                    if (il is null)
                    {
                        continue;
                    }

                    int at = 0;
                    while (at < il.Length)
                    {
                        ushort value = il[at] == 0xFE ? (ushort)(0xFE00 | il[at + 1]) : il[at];
                        var op = opCodes[value];
                        at += op.Size;
                        int operand = op.OperandType switch
                        {
                            OperandType.InlineNone => 0,
                            OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                            OperandType.InlineVar => 2,
                            OperandType.InlineI8 or OperandType.InlineR => 8,
                            OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, at)),
                            _ => 4,
                        };
                        if (op == OpCodes.Call || op == OpCodes.Callvirt || op == OpCodes.Newobj)
                        {
                            var callee = method.Module.ResolveMethod(BitConverter.ToInt32(il, at),
                                type.IsGenericType ? type.GetGenericArguments() : null,
                                method.IsGenericMethod ? method.GetGenericArguments() : null);
                            if (callee is not null)
                            {
                                yield return (method, callee);
                            }
                        }

                        at += operand;
                    }
                }
            }
        }
    }
}
