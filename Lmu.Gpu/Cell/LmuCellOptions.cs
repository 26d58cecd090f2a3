namespace Lmu.Gpu;

/// <summary>
/// Shape and connections of a nonlinear LMU cell (paper eqs. 4, 6, 7) with k memory channels (keras-lmu
/// <c>memory_d</c>): u_t = e_x·x_t + e_h·h_{t−1} + e_m·m_{t−1} + b_u ∈ ℝ^k; m_t = Ā·m_{t−1} + B̄·u_t per channel;
/// h_t = f(W_x·x_t + W_h·h_{t−1} + W_m·m_t + b_h) ∈ ℝ^n. The defaults are the paper's cell (all connections, no
/// biases, tanh, ZOH, frozen θ).
/// </summary>
public sealed record LmuCellOptions
{
    /// <summary>Input features n_x per step.</summary>
    public required int InputSize { get; init; }

    /// <summary>Hidden units n.</summary>
    public required int Units { get; init; }

    /// <summary>Memory order d.</summary>
    public required int Order { get; init; }

    /// <summary>Window θ in units of <see cref="Dt"/>.</summary>
    public required double Theta { get; init; }

    /// <summary>Memory channels k (keras-lmu <c>memory_d</c>); 1 in the paper.</summary>
    public int MemoryChannels { get; init; } = 1;

    /// <summary>Hidden activation f.</summary>
    public Activation Activation { get; init; } = Activation.Tanh;

    /// <summary>Discretisation of the memory.</summary>
    public Discretizer Discretizer { get; init; } = Discretizer.ZeroOrderHold;

    /// <summary>Time step (θ is measured in these units); 1 by default.</summary>
    public double Dt { get; init; } = 1.0;

    /// <summary>W_x: the input enters the hidden state directly (keras-lmu <c>input_to_hidden</c>).</summary>
    public bool InputToHidden { get; init; } = true;

    /// <summary>e_h: h_{t−1} enters the memory input (keras-lmu <c>hidden_to_memory</c>).</summary>
    public bool HiddenToMemory { get; init; } = true;

    /// <summary>e_m: m_{t−1} enters the memory input (keras-lmu <c>memory_to_memory</c>).</summary>
    public bool MemoryToMemory { get; init; } = true;

    /// <summary>W_h: h_{t−1} enters the hidden pre-activation (a recurrent hidden cell; false gives a feed-forward
    /// hidden layer as keras-lmu's <c>hidden_cell=Dense</c>).</summary>
    public bool HiddenToHidden { get; init; } = true;

    /// <summary>A trainable bias on the memory input u (keras-lmu <c>use_bias</c>).</summary>
    public bool MemoryBias { get; init; }

    /// <summary>A trainable bias on the hidden pre-activation.</summary>
    public bool HiddenBias { get; init; }

    /// <summary>θ is trained (keras-lmu <c>trainable_theta</c>).</summary>
    public bool TrainableTheta { get; init; }

    /// <summary>k·d.</summary>
    public int MemorySize => MemoryChannels * Order;

    /// <summary>Checks every field.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is &lt; 1, θ or dt is not a finite positive number, or
    /// the weights would not fit one array.</exception>
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

        if (!Enum.IsDefined(Activation))
        {
            throw new ArgumentOutOfRangeException(nameof(Activation), Activation, "Unknown activation.");
        }

        long total = CellLayout.TotalLength(this);
        if (total > int.MaxValue / 2)
        {
            throw new ArgumentOutOfRangeException(nameof(Units), Units, $"The cell would have {total:N0} weights, too many for one array.");
        }
    }

    /// <summary>Trainable parameters (enabled weights, biases, θ when trainable), as a Keras summary counts them.</summary>
    public long TrainableParameterCount
    {
        get
        {
            long k = MemoryChannels;
            long n = Units;
            long count = (k * InputSize) + (n * MemorySize);
            count += HiddenToMemory ? k * n : 0;
            count += MemoryToMemory ? k * MemorySize : 0;
            count += InputToHidden ? n * InputSize : 0;
            count += HiddenToHidden ? n * n : 0;
            count += MemoryBias ? k : 0;
            count += HiddenBias ? n : 0;
            count += TrainableTheta ? 1 : 0;
            return count;
        }
    }
}
