using ILGPU;
using ILGPU.Runtime;
using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Training;

/// <summary>
/// The memory-only sequence evaluation behind the feedforward LMU layer: forward m_t = Ā·m_{t−1} + B̄·u_t from zero
/// state, and the reverse-time adjoint λ_t = g_t + Āᵀλ_{t+1}, dL/du_t = B̄ᵀλ_t. This is the seam where a parallel
/// (chunked scan) evaluation replaces the sequential one.
/// </summary>
internal interface IMemorySequenceEngine
{
    /// <summary>mSeq [B, T, k, d] from u [B, T, k], starting from zero.</summary>
    void Forward(int batch, int channels, int order, int steps, Slice sys, Slice u, Slice mSeq);

    /// <summary>dU [B, T, k] from the direct gradients gradM [B, T, k, d]; θ partials [B·k] when asked.</summary>
    void Adjoint(MemoryAdjointParams p, int batch, Slice sys, Slice mSeq, Slice u, Slice gradM, Slice dU, Slice thetaPartial);
}
