namespace Lmu.Gpu;

/// <summary>How a sequence run of the linear memory is evaluated.</summary>
public enum SequenceMethod
{
    /// <summary>Picks the faster of <see cref="Sequential"/> and <see cref="Scan"/> for the sizes and device.</summary>
    /// <remarks>On a GPU the scan wherever T holds four chunks (and for final-only runs wherever the window start
    /// applies). On the host the scan where it has enough chunks per core, unless the sequential run, which steps the
    /// memories in groups of eight, already keeps every core busy with whole groups: with B·k = 16 on two cores it
    /// does, and there the sequential run ties the scan forward and is about twice as fast in the adjoint. See
    /// <see cref="LinearMemory.ResolveAuto"/> and <see cref="LinearMemory.ResolveAutoAdjoint"/>.</remarks>
    Auto = 0,

    /// <summary>T dependent steps m_t = Ā·m_{t−1} + B̄·u_t.</summary>
    Sequential = 1,

    /// <summary>The chunked parallel scan over time (the input must not depend on the memory's own past).</summary>
    /// <remarks>
    /// The sequence is cut into chunks of L steps. (A) Each chunk's end state from zero comes from the impulse response
    /// Ā^k·B̄. (B) The carries are chained across chunks with Ā^L, in two levels of segments on a device. (C) Every state
    /// of a chunk comes from its carry and its own inputs. On a device, phase C is one matrix product for runs that
    /// write states or decoded outputs, and a lock-step recurrence for final-only runs and the adjoint
    /// (<c>$LMU_SCAN_STATES=steps</c> selects the lock-step form everywhere). The host path runs the same phases with
    /// SIMD over chunks. In float32 the scan agrees with the sequential run within 1e-4 of the largest state (tested up
    /// to T = 10⁵, d = 256; on an H200 `lmu selftest` measured 6e-7 to 9e-7 for the matrix product).
    /// </remarks>
    Scan = 2,
}
