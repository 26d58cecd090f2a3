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
