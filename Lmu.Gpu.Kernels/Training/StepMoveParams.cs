namespace Lmu.Gpu.Kernels.Training;

/// <summary>One move of <see cref="StepMoveKernels.Move"/>: a block of <paramref name="Width"/> columns of a
/// [B, T, <paramref name="SourceWidth"/>] tensor, starting at column <paramref name="SourceOffset"/>, into the columns
/// from <paramref name="DestinationOffset"/> of a [B, T, <paramref name="DestinationWidth"/>] tensor, each sequence's
/// real steps in order or reversed.</summary>
/// <param name="Batch">B.</param>
/// <param name="Steps">T.</param>
/// <param name="Width">Columns moved.</param>
/// <param name="SourceWidth">Columns of a source row.</param>
/// <param name="SourceOffset">First source column.</param>
/// <param name="DestinationWidth">Columns of a destination row.</param>
/// <param name="DestinationOffset">First destination column.</param>
/// <param name="Reverse">1: step t of sequence b takes step L_b − 1 − t (0 where t ≥ L_b); 0: step t takes step t.</param>
/// <param name="Accumulate">1: add into the destination; 0: overwrite it.</param>
/// <param name="UseLengths">1: L_b = lengths[b]; 0: L_b = T for every sequence (the lengths view is not read). The
/// backend sets it from whether it is given lengths.</param>
/// <param name="Scale">Each moved value is multiplied by it (1: a copy; ½: the mean of a bidirectional pair).</param>
public readonly record struct StepMoveParams(
    int Batch, int Steps, int Width, int SourceWidth, int SourceOffset, int DestinationWidth, int DestinationOffset,
    int Reverse, int Accumulate, int UseLengths, float Scale = 1f)
{
    /// <summary>Elements moved: B·T·width.</summary>
    public long Elements => (long)Batch * Steps * Width;
}
