namespace Lmu.Gpu.Training;

/// <summary>An array read from a numpy <c>.npy</c> file or <c>.npz</c> archive (<see cref="NumpyArchive"/>).</summary>
/// <param name="Shape">The dimensions (empty for a scalar).</param>
/// <param name="Values">The values in row-major (C) order, as float32.</param>
public sealed record NumpyArray(IReadOnlyList<int> Shape, float[] Values)
{
    /// <summary>The scalar's value, or the single value of a one-element array.</summary>
    /// <exception cref="InvalidOperationException">The array has more or fewer than one value.</exception>
    public float Scalar => Values.Length == 1
        ? Values[0]
        : throw new InvalidOperationException($"The array has {Values.Length} values (shape [{string.Join(", ", Shape)}]), not one.");
}
