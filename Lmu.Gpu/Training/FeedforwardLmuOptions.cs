namespace Lmu.Gpu.Training;

/// <summary>
/// The feedforward LMU layer (keras-lmu <c>LMUFeedforward</c> with a dense hidden layer; Chilkuri &amp; Eliasmith
/// 2021): the memory is driven by the input only, u_t = e_x·x_t + b_u, m_t = Ā·m_{t−1} + B̄·u_t (k channels), and
/// the output is h_t = f(W_m·m_t + W_x·x_t + b_h). With no recurrence through h the memory sequence can be evaluated
/// in parallel over time.
/// </summary>
public sealed record FeedforwardLmuOptions
{
    /// <summary>Input features n_x per step.</summary>
    public required int InputSize { get; init; }

    /// <summary>Output units n.</summary>
    public required int Units { get; init; }

    /// <summary>Memory order d.</summary>
    public required int Order { get; init; }

    /// <summary>Window θ in units of <see cref="Dt"/>.</summary>
    public required double Theta { get; init; }

    /// <summary>Memory channels k.</summary>
    public int MemoryChannels { get; init; } = 1;

    /// <summary>Output activation f.</summary>
    public Activation Activation { get; init; } = Activation.Relu;

    /// <summary>W_x: the input also feeds the output directly.</summary>
    public bool InputToHidden { get; init; } = true;

    /// <summary>Bias on u.</summary>
    public bool MemoryBias { get; init; }

    /// <summary>Bias on the output.</summary>
    public bool HiddenBias { get; init; } = true;

    /// <summary>Discretisation.</summary>
    public Discretizer Discretizer { get; init; } = Discretizer.ZeroOrderHold;

    /// <summary>Time step.</summary>
    public double Dt { get; init; } = 1.0;

    /// <summary>θ is trained.</summary>
    public bool TrainableTheta { get; init; }

    /// <summary>k·d.</summary>
    public int MemorySize => MemoryChannels * Order;

    /// <summary>Trainable parameter count.</summary>
    public long TrainableParameterCount =>
        ((long)MemoryChannels * InputSize) + ((long)Units * MemorySize) + (InputToHidden ? (long)Units * InputSize : 0)
        + (MemoryBias ? MemoryChannels : 0) + (HiddenBias ? Units : 0) + (TrainableTheta ? 1 : 0);

    /// <summary>Checks every field.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size &lt; 1 or a bad θ/dt.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(InputSize, 1, nameof(InputSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(Units, 1, nameof(Units));
        ArgumentOutOfRangeException.ThrowIfLessThan(MemoryChannels, 1, nameof(MemoryChannels));
        LmuSystem.ValidateOrder(Order);
        LmuSystem.ValidateTheta(Theta);
        if (!(Dt > 0) || double.IsInfinity(Dt))
        {
            throw new ArgumentOutOfRangeException(nameof(Dt), Dt, "dt must be a finite number > 0.");
        }

        if ((long)Units * MemorySize > int.MaxValue / 4)
        {
            throw new ArgumentOutOfRangeException(nameof(Units), Units, "The layer has too many weights for one array.");
        }
    }
}
