namespace Lmu.Gpu.Training;

/// <summary>Moving weights between this library and keras-lmu / Keras.</summary>
public sealed partial class LmuModel
{
    /// <summary>Sets an LMU layer's weights from a keras-lmu layer's (an <c>LMU</c>/<c>LMUCell</c> into an LMU cell, an
    /// <c>LMUFeedforward</c> into a feedforward LMU), so that the layer computes what the Keras layer computes. The
    /// layer's options must describe the Keras layer: the same k (<c>memory_d</c>), d (<c>order</c>), θ, discretizer and
    /// connections, and the activation of its hidden cell (a <c>SimpleRNNCell</c> is tanh by default, a <c>Dense</c>
    /// layer linear). A connection the layer has and the Keras layer lacks (this library's options default to all of them
    /// on, keras-lmu's to off) gets zero weights, which computes the same. Resets the optimiser state, as
    /// <see cref="SetParameters"/> does.</summary>
    /// <param name="layerIndex">The layer, counted from 0 in the order added (dropout layers included).</param>
    /// <param name="weights">The Keras arrays.</param>
    /// <exception cref="ArgumentNullException"><paramref name="weights"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layerIndex"/> is not a layer of the model.</exception>
    /// <exception cref="ArgumentException">The layer is not an LMU layer, an array's length does not fit the layer,
    /// an array needs a connection the layer's options leave off, or a value is not finite. Nothing is changed.</exception>
    public void ImportKeras(int layerIndex, KerasLmuWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        Import(layerIndex, (layer, target) =>
        {
            if (layer is BidirectionalModelLayer)
            {
                throw new ArgumentException($"Layer {layerIndex} is bidirectional; give its forward and backward layers' weights (ImportKeras(layerIndex, forward, backward)).", nameof(layerIndex));
            }

            ImportLmu(layer, layerIndex, weights, target);
        });
    }

    /// <summary>Sets a bidirectional layer's weights from a Keras <c>Bidirectional</c> wrapper's two keras-lmu layers
    /// (<c>forward_…</c> and <c>backward_…</c> in Keras's weight names), each as
    /// <see cref="ImportKeras(int, KerasLmuWeights)"/> takes them. The layer's <see cref="BidirectionalMerge"/> must be
    /// the wrapper's <c>merge_mode</c> (concat, sum or ave).</summary>
    /// <param name="layerIndex">The bidirectional layer (<see cref="AddBidirectional(LmuCellOptions, LmuCellOptions?, BidirectionalMerge)"/>).</param>
    /// <param name="forward">The forward layer's arrays.</param>
    /// <param name="backward">The backward layer's arrays.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layerIndex"/> is not a layer of the model.</exception>
    /// <exception cref="ArgumentException">The layer is not bidirectional, or an array does not fit its half (as for
    /// one LMU layer). Nothing is changed.</exception>
    public void ImportKeras(int layerIndex, KerasLmuWeights forward, KerasLmuWeights backward)
    {
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(backward);
        Import(layerIndex, (layer, target) =>
        {
            if (layer is not BidirectionalModelLayer pair)
            {
                throw new ArgumentException($"Layer {layerIndex} is not bidirectional ({layer.GetType().Name}); one LMU layer takes one KerasLmuWeights.", nameof(layerIndex));
            }

            int split = pair.ForwardLayer.ParameterLength;
            ImportLmu(pair.ForwardLayer, layerIndex, forward, target[..split]);
            ImportLmu(pair.BackwardLayer, layerIndex, backward, target[split..]);
        });
    }

    /// <summary>Sets a dense layer's weights from a Keras <c>Dense</c> layer's (kernel [inputs, units]).</summary>
    /// <param name="layerIndex">The layer, counted from 0 in the order added.</param>
    /// <param name="weights">The Keras arrays.</param>
    /// <exception cref="ArgumentNullException"><paramref name="weights"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layerIndex"/> is not a layer of the model.</exception>
    /// <exception cref="ArgumentException">The layer is not a dense layer, an array's length does not fit it, or a value
    /// is not finite. Nothing is changed.</exception>
    public void ImportKeras(int layerIndex, KerasDenseWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        Import(layerIndex, (layer, target) =>
        {
            if (layer is not DenseModelLayer dense)
            {
                throw new ArgumentException($"Layer {layerIndex} is not a dense layer ({layer.GetType().Name}); an LMU layer takes KerasLmuWeights.", nameof(layerIndex));
            }

            KerasImport.Dense(dense.InputWidth, dense.OutputWidth, weights, target);
        });
    }

    /// <summary>An LMU layer's weights as keras-lmu holds them: what <see cref="ImportKeras(int, KerasLmuWeights)"/>
    /// takes back, and what a keras-lmu layer of the same shape (an <c>LMUCell</c> for an LMU cell: a
    /// <c>SimpleRNNCell</c> hidden cell where the layer has <see cref="LmuCellOptions.HiddenToHidden"/>, else
    /// <c>Dense</c>; an <c>LMUFeedforward</c> for a feedforward LMU) loads with <c>set_weights</c>. Arrays for connections
    /// the layer leaves off are null.</summary>
    /// <param name="layerIndex">The layer, counted from 0 in the order added.</param>
    /// <returns>The arrays, row-major, kernels [inputs, outputs].</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layerIndex"/> is not a layer of the model.</exception>
    /// <exception cref="ArgumentException">The layer is not an LMU layer.</exception>
    public KerasLmuWeights ExportKerasLmu(int layerIndex) => Export(layerIndex, (layer, source) => layer is BidirectionalModelLayer
        ? throw new ArgumentException($"Layer {layerIndex} is bidirectional; ExportKerasBidirectional exports its two layers.", nameof(layerIndex))
        : ExportLmu(layer, layerIndex, source));

    /// <summary>A bidirectional layer's two LMU layers as a Keras <c>Bidirectional</c> wrapper holds them (each as
    /// <see cref="ExportKerasLmu"/> gives one layer): what <see cref="ImportKeras(int, KerasLmuWeights, KerasLmuWeights)"/>
    /// takes back.</summary>
    /// <param name="layerIndex">The bidirectional layer.</param>
    /// <returns>The forward and the backward layer's arrays.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layerIndex"/> is not a layer of the model.</exception>
    /// <exception cref="ArgumentException">The layer is not bidirectional.</exception>
    public (KerasLmuWeights Forward, KerasLmuWeights Backward) ExportKerasBidirectional(int layerIndex) => Export(layerIndex, (layer, source) =>
    {
        if (layer is not BidirectionalModelLayer pair)
        {
            throw new ArgumentException($"Layer {layerIndex} is not bidirectional ({layer.GetType().Name}); ExportKerasLmu exports one LMU layer.", nameof(layerIndex));
        }

        int split = pair.ForwardLayer.ParameterLength;
        return (ExportLmu(pair.ForwardLayer, layerIndex, source[..split]), ExportLmu(pair.BackwardLayer, layerIndex, source[split..]));
    });

    /// <summary>A dense layer's weights as a Keras <c>Dense</c> layer holds them (kernel [inputs, units]).</summary>
    /// <param name="layerIndex">The layer, counted from 0 in the order added.</param>
    /// <returns>The arrays.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layerIndex"/> is not a layer of the model.</exception>
    /// <exception cref="ArgumentException">The layer is not a dense layer.</exception>
    public KerasDenseWeights ExportKerasDense(int layerIndex) => Export(layerIndex, (layer, source) => layer is DenseModelLayer dense
        ? KerasImport.ExportDense(dense.InputWidth, dense.OutputWidth, source)
        : throw new ArgumentException($"Layer {layerIndex} is not a dense layer ({layer.GetType().Name}); ExportKerasLmu exports an LMU layer.", nameof(layerIndex)));

    /// <summary>Reads one layer's slice of the parameter vector through <paramref name="read"/>.</summary>
    private T Export<T>(int layerIndex, ExportSlice<T> read)
    {
        using var scope = new OperationScope(this);
        var layer = LayerAt(layerIndex);
        return read(layer, GetParameters().AsSpan(layer.Offset, layer.ParameterLength));
    }

    private delegate T ExportSlice<T>(ModelLayer layer, ReadOnlySpan<float> source);

    /// <summary>Writes one layer's slice of the parameter vector through <paramref name="fill"/>, all or nothing.</summary>
    private void Import(int layerIndex, ImportSlice fill)
    {
        using var scope = new OperationScope(this);
        var layer = LayerAt(layerIndex);
        float[] parameters = GetParameters();
        fill(layer, parameters.AsSpan(layer.Offset, layer.ParameterLength));
        SetParameters(parameters);
    }

    private delegate void ImportSlice(ModelLayer layer, Span<float> target);

    private static void ImportLmu(ModelLayer layer, int layerIndex, KerasLmuWeights weights, Span<float> target)
    {
        switch (layer)
        {
            case CellModelLayer cell:
                KerasImport.Cell(cell.Options, weights, target);
                break;
            case FeedforwardModelLayer feedforward:
                KerasImport.Feedforward(feedforward.Options, weights, target);
                break;
            default:
                throw new ArgumentException($"Layer {layerIndex} is not an LMU layer ({layer.GetType().Name}); a dense layer takes KerasDenseWeights.", nameof(layerIndex));
        }
    }

    private static KerasLmuWeights ExportLmu(ModelLayer layer, int layerIndex, ReadOnlySpan<float> source) => layer switch
    {
        CellModelLayer cell => KerasImport.ExportCell(cell.Options, source),
        FeedforwardModelLayer feedforward => KerasImport.ExportFeedforward(feedforward.Options, source),
        _ => throw new ArgumentException($"Layer {layerIndex} is not an LMU layer ({layer.GetType().Name}); ExportKerasDense exports a dense layer.", nameof(layerIndex)),
    };

    /// <summary>Layer <paramref name="layerIndex"/> of the built model.</summary>
    private ModelLayer LayerAt(int layerIndex)
    {
        EnsureBuilt();
        ArgumentOutOfRangeException.ThrowIfNegative(layerIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layerIndex, _layers.Count);
        return _layers[layerIndex];
    }
}
