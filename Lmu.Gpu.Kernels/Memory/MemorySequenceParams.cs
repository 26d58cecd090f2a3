namespace Lmu.Gpu.Kernels.Memory;

/// <summary>Scalar arguments of <see cref="LinearMemoryKernels.Sequence"/>.</summary>
/// <param name="Order">The order d.</param>
/// <param name="Channels">Memory channels k per batch entry.</param>
/// <param name="Steps">Steps T of this launch.</param>
/// <param name="Delays">Rows Q of the decoder matrix (used in <see cref="MemoryOutputMode.Decoded"/>).</param>
/// <param name="Mode">What to write per step.</param>
/// <param name="Parts">Threads P that share one row of the matrix–vector product (each sums d/P terms); 1 means
/// one thread per row. The group must hold at least P·d threads when P &gt; 1.</param>
/// <param name="MatrixInShared">1: copy Āᵀ into shared memory after the (2 + P)·d state floats at the start of the
/// launch and read it from there at every step (the host sets it where d² more floats fit), so that a step waits on
/// shared-memory latency instead of L2's; 0: read Āᵀ from global memory.</param>
public readonly record struct MemorySequenceParams(int Order, int Channels, int Steps, int Delays, MemoryOutputMode Mode, int Parts,
    int MatrixInShared = 0);
