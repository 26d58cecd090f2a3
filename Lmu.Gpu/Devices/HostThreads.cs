using System.Globalization;

namespace Lmu.Gpu;

/// <summary>
/// The most threads the library's host-side work runs on at once: the host path (<see cref="AcceleratorKind.Cpu"/>:
/// memories, scans, training, streaming), the spiking populations' host simulation and decoder solves, and the
/// double-precision system builds. A process-wide setting, as BLAS libraries have one (<c>OMP_NUM_THREADS</c>): an
/// application that serves several models at once, or shares the machine, caps the library here.
/// </summary>
/// <remarks>
/// <para>The default is <see cref="Environment.ProcessorCount"/>, or <c>LMU_HOST_THREADS</c> when that is set. Every
/// parallel loop of the library takes at most <see cref="Limit"/> threads, the calling thread included, and the host
/// path's work splits (scan chunk lengths, the sequential-or-scan rule of <see cref="SequenceMethod.Auto"/>) are sized
/// for <see cref="Limit"/> threads, so results can differ in the last bits of float32 between limits, never by more
/// than the methods' stated tolerances. With a limit of 1 the library's host work runs on the calling thread.</para>
/// <para>MathNet.Numerics, which the spiking decoders' Cholesky solve runs in, has its own setting
/// (<c>MathNet.Numerics.Control.MaxDegreeOfParallelism</c>).</para>
/// <para>Kernels on a GPU or the CPU simulator are not affected: ILGPU schedules those.</para>
/// </remarks>
public static class HostThreads
{
    /// <summary>The environment variable read for the default limit: a whole number ≥ 1.</summary>
    public const string EnvironmentVariable = "LMU_HOST_THREADS";

    private static readonly object Gate = new();
    private static ParallelOptions? _options;

    /// <summary>The most threads a parallel loop of the library uses (≥ 1). Setting it applies to loops started
    /// afterwards.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to less than 1.</exception>
    /// <exception cref="ArgumentException">Read for the first time while <c>LMU_HOST_THREADS</c> holds something that
    /// is not a whole number ≥ 1; the message names the variable.</exception>
    public static int Limit
    {
        get => Options.MaxDegreeOfParallelism;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            lock (Gate)
            {
                _options = new ParallelOptions { MaxDegreeOfParallelism = value };
            }
        }
    }

    /// <summary>Returns the limit to its default: <c>LMU_HOST_THREADS</c> as it is now, else
    /// <see cref="Environment.ProcessorCount"/>.</summary>
    /// <exception cref="ArgumentException"><c>LMU_HOST_THREADS</c> is not a whole number ≥ 1.</exception>
    public static void Reset()
    {
        int limit = ReadDefault();
        lock (Gate)
        {
            _options = new ParallelOptions { MaxDegreeOfParallelism = limit };
        }
    }

    /// <summary>Options for a parallel loop: at most <see cref="Limit"/> threads.</summary>
    internal static ParallelOptions Options
    {
        get
        {
            var options = Volatile.Read(ref _options);
            if (options is not null)
            {
                return options;
            }

            Reset();
            return Volatile.Read(ref _options)!;
        }
    }

    /// <summary>Runs <paramref name="body"/> for 0 … <paramref name="count"/> − 1 on at most <see cref="Limit"/>
    /// threads. A single iteration, or a limit of 1, runs on the calling thread without <see cref="Parallel"/>'s
    /// scheduling (which allocates a few hundred bytes per loop: in a streaming step of one sequence that was most
    /// of what the step allocated).</summary>
    /// <param name="count">The iterations.</param>
    /// <param name="body">The loop body.</param>
    internal static void For(int count, Action<int> body) => For(count, body, static (b, i) => b(i));

    /// <summary><see cref="For(int, Action{int})"/> with the body's data passed in <paramref name="state"/>: with a static
    /// body, a single iteration (or a limit of 1) allocates nothing, where a capturing lambda allocates its closure on
    /// every call.</summary>
    /// <typeparam name="TState">The data the body reads.</typeparam>
    /// <param name="count">The iterations.</param>
    /// <param name="state">The data.</param>
    /// <param name="body">The loop body, (state, i).</param>
    internal static void For<TState>(int count, TState state, Action<TState, int> body)
    {
        if (count <= 1 || Limit == 1)
        {
            for (int i = 0; i < count; i++)
            {
                body(state, i);
            }

            return;
        }

        ParallelFor(count, state, body);
    }

    /// <summary>The parallel branch of <see cref="For{TState}"/>, a method of its own: its closure would otherwise be
    /// allocated on entry to the caller, on the serial path too.</summary>
    private static void ParallelFor<TState>(int count, TState state, Action<TState, int> body) =>
        Parallel.For(0, count, Options, i => body(state, i));

    /// <summary><see cref="For(int, Action{int})"/> over a long range.</summary>
    /// <param name="count">The iterations.</param>
    /// <param name="body">The loop body.</param>
    internal static void For(long count, Action<long> body)
    {
        if (count <= 1 || Limit == 1)
        {
            for (long i = 0; i < count; i++)
            {
                body(i);
            }

            return;
        }

        Parallel.For(0L, count, Options, body);
    }

    private static int ReadDefault() => EnvironmentSetting.Read(EnvironmentVariable, text =>
        int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= 1
            ? value
            : throw new ArgumentException(
                $"{EnvironmentVariable}='{text}': give the most threads the library's host work may use, a whole number of 1 or more.",
                EnvironmentVariable),
        Environment.ProcessorCount);
}
