namespace Lmu.Gpu.Kernels.Memory;

/// <summary>An 8×8 register tile of a thread in <see cref="ScanGemmKernels.ChunkStates"/>: C_rc accumulates
/// Σ_k W[m_r, k]·Z[k, n_c] for the thread's eight rows m_r and eight columns n_c.</summary>
public struct Tile8x8
{
#pragma warning disable CS1591 // the 64 accumulators C_rc (row r, column c) need no comment each
    public float C00, C01, C02, C03, C04, C05, C06, C07, C10, C11, C12, C13, C14, C15, C16, C17, C20, C21, C22, C23, C24, C25, C26, C27, C30, C31, C32, C33, C34, C35, C36, C37, C40, C41, C42, C43, C44, C45, C46, C47, C50, C51, C52, C53, C54, C55, C56, C57, C60, C61, C62, C63, C64, C65, C66, C67, C70, C71, C72, C73, C74, C75, C76, C77;
#pragma warning restore CS1591

    /// <summary>One rank-1 update: C_rc += a_r·b_c (64 FMAs on 16 operands).</summary>
    public void Fma(float a0, float a1, float a2, float a3, float a4, float a5, float a6, float a7,
        float b0, float b1, float b2, float b3, float b4, float b5, float b6, float b7)
    {
        C00 += a0 * b0; C01 += a0 * b1; C02 += a0 * b2; C03 += a0 * b3; C04 += a0 * b4; C05 += a0 * b5; C06 += a0 * b6; C07 += a0 * b7;
        C10 += a1 * b0; C11 += a1 * b1; C12 += a1 * b2; C13 += a1 * b3; C14 += a1 * b4; C15 += a1 * b5; C16 += a1 * b6; C17 += a1 * b7;
        C20 += a2 * b0; C21 += a2 * b1; C22 += a2 * b2; C23 += a2 * b3; C24 += a2 * b4; C25 += a2 * b5; C26 += a2 * b6; C27 += a2 * b7;
        C30 += a3 * b0; C31 += a3 * b1; C32 += a3 * b2; C33 += a3 * b3; C34 += a3 * b4; C35 += a3 * b5; C36 += a3 * b6; C37 += a3 * b7;
        C40 += a4 * b0; C41 += a4 * b1; C42 += a4 * b2; C43 += a4 * b3; C44 += a4 * b4; C45 += a4 * b5; C46 += a4 * b6; C47 += a4 * b7;
        C50 += a5 * b0; C51 += a5 * b1; C52 += a5 * b2; C53 += a5 * b3; C54 += a5 * b4; C55 += a5 * b5; C56 += a5 * b6; C57 += a5 * b7;
        C60 += a6 * b0; C61 += a6 * b1; C62 += a6 * b2; C63 += a6 * b3; C64 += a6 * b4; C65 += a6 * b5; C66 += a6 * b6; C67 += a6 * b7;
        C70 += a7 * b0; C71 += a7 * b1; C72 += a7 * b2; C73 += a7 * b3; C74 += a7 * b4; C75 += a7 * b5; C76 += a7 * b6; C77 += a7 * b7;
    }

    /// <summary>Row <paramref name="r"/> of the tile (0 … 7).</summary>
    /// <param name="r">The row.</param>
    /// <returns>Its eight values.</returns>
    public readonly Row8 Row(int r) => r switch
    {
        0 => new Row8(C00, C01, C02, C03, C04, C05, C06, C07),
        1 => new Row8(C10, C11, C12, C13, C14, C15, C16, C17),
        2 => new Row8(C20, C21, C22, C23, C24, C25, C26, C27),
        3 => new Row8(C30, C31, C32, C33, C34, C35, C36, C37),
        4 => new Row8(C40, C41, C42, C43, C44, C45, C46, C47),
        5 => new Row8(C50, C51, C52, C53, C54, C55, C56, C57),
        6 => new Row8(C60, C61, C62, C63, C64, C65, C66, C67),
        _ => new Row8(C70, C71, C72, C73, C74, C75, C76, C77),
    };
}
