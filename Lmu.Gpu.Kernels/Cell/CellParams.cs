namespace Lmu.Gpu.Kernels.Cell;

/// <summary>Sizes, flags and offsets into the flat weight vector of one nonlinear LMU cell.</summary>
/// <param name="InputSize">n_x.</param>
/// <param name="Units">n (hidden units).</param>
/// <param name="Order">d.</param>
/// <param name="Channels">k (memory channels).</param>
/// <param name="Steps">T.</param>
/// <param name="Activation">An <see cref="ActivationCode"/>.</param>
/// <param name="Flags">A combination of <see cref="CellFlags"/>.</param>
/// <param name="OffEx">Offset of e_x [k, n_x].</param>
/// <param name="OffEh">Offset of e_h [k, n].</param>
/// <param name="OffEm">Offset of e_m [k, k·d].</param>
/// <param name="OffBu">Offset of the memory-input bias [k].</param>
/// <param name="OffWx">Offset of W_x [n, n_x].</param>
/// <param name="OffWh">Offset of W_h [n, n].</param>
/// <param name="OffWm">Offset of W_m [n, k·d].</param>
/// <param name="OffBh">Offset of the hidden bias [n].</param>
/// <param name="ThetaScale">Backward: the factor −dt/θ² of dĀ/dθ and dB̄/dθ.</param>
public readonly record struct CellParams(
    int InputSize, int Units, int Order, int Channels, int Steps, int Activation, int Flags,
    int OffEx, int OffEh, int OffEm, int OffBu, int OffWx, int OffWh, int OffWm, int OffBh, float ThetaScale)
{
    /// <summary>k·d.</summary>
    public int MemorySize => Channels * Order;

    /// <summary>True when <paramref name="flag"/> is set.</summary>
    /// <param name="flag">A <see cref="CellFlags"/> bit.</param>
    /// <returns>Whether it is set.</returns>
    public bool Has(int flag) => (Flags & flag) != 0;
}
