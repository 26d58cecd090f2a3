namespace Lmu.Gpu;

/// <summary>How a sequence run of the linear memory is evaluated.</summary>
public enum SequenceMethod
{
    /// <summary>Picks the faster of <see cref="Sequential"/> and <see cref="Scan"/> for the sizes and device.</summary>
    Auto = 0,

    /// <summary>T dependent steps m_t = Ā·m_{t−1} + B̄·u_t.</summary>
    Sequential = 1,

    /// <summary>The chunked parallel scan over time (the input must not depend on the memory's own past).</summary>
    Scan = 2,
}
