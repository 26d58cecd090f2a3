namespace Lmu.Gpu.Kernels.Cell;

/// <summary>Connection flags of the nonlinear LMU cell, as bits of <see cref="CellParams.Flags"/>.</summary>
public static class CellFlags
{
    /// <summary>W_x·x_t enters the hidden pre-activation.</summary>
    public const int InputToHidden = 1;

    /// <summary>e_hᵀh_{t−1} enters the memory input.</summary>
    public const int HiddenToMemory = 2;

    /// <summary>e_mᵀm_{t−1} enters the memory input.</summary>
    public const int MemoryToMemory = 4;

    /// <summary>W_h·h_{t−1} enters the hidden pre-activation.</summary>
    public const int HiddenToHidden = 8;

    /// <summary>A bias is added to the memory input u.</summary>
    public const int MemoryBias = 16;

    /// <summary>A bias is added to the hidden pre-activation.</summary>
    public const int HiddenBias = 32;

    /// <summary>Backward: compute the θ gradient.</summary>
    public const int ThetaGradient = 64;

    /// <summary>Backward: write the input gradient dL/dx.</summary>
    public const int InputGradient = 128;

    /// <summary>The discretisation is forward Euler (θ gradient uses m_{t−1}).</summary>
    public const int Euler = 256;

    /// <summary>Forward: store every m_t and u_t (needed for training).</summary>
    public const int StoreStates = 512;
}

/// <summary>Activation function codes shared by the kernels (same values as the host enum).</summary>
public static class ActivationCode
{
    /// <summary>tanh.</summary>
    public const int Tanh = 0;

    /// <summary>Identity.</summary>
    public const int Linear = 1;

    /// <summary>max(0, x).</summary>
    public const int Relu = 2;

    /// <summary>1 / (1 + e^−x).</summary>
    public const int Sigmoid = 3;
}

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
