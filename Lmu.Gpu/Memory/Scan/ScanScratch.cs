using ILGPU;
using ILGPU.Runtime;

namespace Lmu.Gpu;

/// <summary>The scratch buffers of <see cref="ScanWorkspace"/>.</summary>
internal enum ScanScratch
{
    /// <summary>Chunk end states, then carries [B·k·C, d].</summary>
    Carries,

    /// <summary>Final states [B·k, d].</summary>
    Final,

    /// <summary>Segment ends of the two-level carries [B·k·S, d].</summary>
    SegmentEnds,

    /// <summary>The carries before each sequence's last chunk [B·k, d].</summary>
    BeforeLast,

    /// <summary>The product phase C's chunk start states [B·k·C, d] and 16 zeros.</summary>
    Starts,

    /// <summary>The adjoint's reverse carries [B·k·C, d].</summary>
    AdjointCarries,

    /// <summary>The adjoint's segment ends [B·k·S, d].</summary>
    AdjointSegmentEnds,
}
