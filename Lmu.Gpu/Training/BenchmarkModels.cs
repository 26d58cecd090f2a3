namespace Lmu.Gpu.Training;

/// <summary>The model shapes that the inference benchmarks time (<c>StreamBenchmarks</c>, <c>lmu bench stream</c>), at
/// the paper's sizes, with their initial weights.</summary>
internal static class BenchmarkModels
{
    /// <summary>The names <see cref="Create"/> takes.</summary>
    public static readonly string[] Names = ["mackey-glass", "psmnist-paper", "psmnist-feedforward"];

    /// <summary>
    /// <c>mackey-glass</c>: 4 × LMU cell(49, d = 4, θ = 4) + Dense(1), outputs at every step (the paper's Mackey-Glass
    /// model); <c>psmnist-paper</c>: LMU cell(212, d = 256, θ = 784) + Dense(10), output at the last step;
    /// <c>psmnist-feedforward</c>: feedforward LMU(346, d = 468, θ = 784) + Dense(10), output at the last step
    /// (Chilkuri &amp; Eliasmith's psMNIST model).
    /// </summary>
    /// <param name="name">One of <see cref="Names"/>.</param>
    /// <param name="device">Where the model runs.</param>
    /// <returns>A new model (dispose it).</returns>
    /// <exception cref="ArgumentException">An unknown name.</exception>
    public static LmuModel Create(string name, LmuDevice device)
    {
        switch (name)
        {
            case "mackey-glass":
                var model = new LmuModel(device, 1, returnSequences: true);
                for (int l = 0; l < 4; l++)
                {
                    model.AddLmu(new LmuCellOptions { InputSize = model.Width, Units = 49, Order = 4, Theta = 4 });
                }

                return model.AddDense(1);
            case "psmnist-paper":
                return new LmuModel(device, 1, returnSequences: false)
                    .AddLmu(new LmuCellOptions { InputSize = 1, Units = 212, Order = 256, Theta = 784 })
                    .AddDense(10);
            case "psmnist-feedforward":
                return new LmuModel(device, 1, returnSequences: false)
                    .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = 1, Units = 346, Order = 468, Theta = 784 })
                    .AddDense(10);
            default:
                throw new ArgumentException($"Unknown model '{name}'; expected {string.Join(", ", Names)}.", nameof(name));
        }
    }
}
