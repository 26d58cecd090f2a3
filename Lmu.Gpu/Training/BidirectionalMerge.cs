namespace Lmu.Gpu.Training;

/// <summary>How a bidirectional layer joins its two halves' outputs at each step (Keras's <c>merge_mode</c>).</summary>
public enum BidirectionalMerge
{
    /// <summary>Side by side, forward first: n_f + n_b outputs (Keras <c>"concat"</c>, the default).</summary>
    Concat = 0,

    /// <summary>The sum, element by element: both halves need the same units (Keras <c>"sum"</c>).</summary>
    Sum = 1,

    /// <summary>The mean, element by element: both halves need the same units (Keras <c>"ave"</c>).</summary>
    Average = 2,
}
