using Lmu.Gpu;
using Lmu.Gpu.Tests.Cell;
using Lmu.Gpu.Training;

namespace Lmu.Gpu.Tests.Training;

/// <summary>Double-precision forward pass and loss of a whole <see cref="LmuModel"/>, written from the equations, for
/// central finite differences.</summary>
internal static class ModelReference
{
    /// <summary>The model's loss on the batch <paramref name="indices"/> of <paramref name="data"/> at the double
    /// <paramref name="parameters"/>.</summary>
    /// <param name="model">The model (its layers and options; its own weights are not read).</param>
    /// <param name="parameters">The parameter vector.</param>
    /// <param name="data">The data.</param>
    /// <param name="indices">The batch.</param>
    /// <param name="lossFromStep">Per-step targets: first counted step.</param>
    /// <param name="initialStates">Where given, each sequence layer starts from its part of these states (laid out as
    /// <see cref="LmuModelStream.GetStates"/> lays them out: per layer, a cell's h [B, n] then m [B, k·d], a feedforward
    /// layer's m [B, k·d]), held constant.</param>
    public static double Loss(LmuModel model, double[] parameters, SequenceDataset data, int[] indices, int lossFromStep, double[]? initialStates = null)
    {
        int stateOffset = 0;
        int b = indices.Length;
        int steps = data.Steps;
        int width = model.InputSize;
        var x = new double[b * steps * width];
        for (int i = 0; i < b; i++)
        {
            for (int j = 0; j < steps * width; j++)
            {
                x[(i * steps * width) + j] = data.Inputs[(indices[i] * steps * width) + j];
            }
        }

        int rowsPerSeq = steps;
        bool seqDone = false;
        foreach (var layer in model.Layers)
        {
            var w = parameters.AsSpan(layer.Offset, layer.ParameterLength);
            if (!layer.IsSequence && !seqDone)
            {
                seqDone = true;
                if (!model.ReturnSequences)
                {
                    x = LastStep(x, b, steps, width);
                    rowsPerSeq = 1;
                }
            }

            switch (layer)
            {
                case CellModelLayer c when initialStates is not null:
                    int hLength = b * c.Options.Units, mLength = b * c.Options.MemorySize;
                    x = CellReference.Forward(c.Options, w, x, b, steps, initialStates[stateOffset..(stateOffset + hLength)], initialStates[(stateOffset + hLength)..(stateOffset + hLength + mLength)]).H;
                    stateOffset += hLength + mLength;
                    break;
                case FeedforwardModelLayer f when initialStates is not null:
                    int length = b * f.Options.MemorySize;
                    x = Feedforward(f.Options, w, x, b, steps, initialStates[stateOffset..(stateOffset + length)]);
                    stateOffset += length;
                    break;
                case CellModelLayer or FeedforwardModelLayer:
                    x = Sequence(layer, w, x, b, steps);
                    break;
                case BidirectionalModelLayer pair:
                    // The backward layer reads the reversed sequence; its outputs return to time order. At the last
                    // step only: [forward at T − 1, backward after the whole sequence].
                    var forward = Sequence(pair.ForwardLayer, parameters.AsSpan(pair.ForwardLayer.Offset, pair.ForwardLayer.ParameterLength), x, b, steps);
                    var backward = Sequence(pair.BackwardLayer, parameters.AsSpan(pair.BackwardLayer.Offset, pair.BackwardLayer.ParameterLength), Reverse(x, b, steps, width), b, steps);
                    int rows = pair.LastStepOnly ? b : b * steps;
                    var ahead = pair.LastStepOnly ? LastStep(forward, b, steps, pair.ForwardLayer.OutputWidth) : forward;
                    var behind = pair.LastStepOnly ? LastStep(backward, b, steps, pair.BackwardLayer.OutputWidth) : Reverse(backward, b, steps, pair.BackwardLayer.OutputWidth);
                    double half = pair.Merge == BidirectionalMerge.Average ? 0.5 : 1;
                    x = pair.Merge == BidirectionalMerge.Concat
                        ? Join(ahead, behind, rows, pair.ForwardLayer.OutputWidth, pair.BackwardLayer.OutputWidth)
                        : ahead.Zip(behind, (p, q) => half * (p + q)).ToArray();
                    if (pair.LastStepOnly)
                    {
                        rowsPerSeq = 1;
                        seqDone = true;
                    }

                    break;
                case DenseModelLayer d:
                    x = Dense(w, x, b * rowsPerSeq, d.InputWidth, d.OutputWidth, d.Activation);
                    break;
            }

            width = layer.OutputWidth;
        }

        if (!seqDone && !model.ReturnSequences)
        {
            x = LastStep(x, b, steps, width);
            rowsPerSeq = 1;
        }

        if (data.IsClassification)
        {
            double loss = 0;
            for (int i = 0; i < b; i++)
            {
                var z = x.AsSpan(i * width, width);
                double max = z.ToArray().Max();
                double sum = 0;
                foreach (double v in z)
                {
                    sum += Math.Exp(v - max);
                }

                loss += Math.Log(sum) + max - z[data.Labels![indices[i]]];
            }

            return loss / b;
        }

        int per = rowsPerSeq * width;
        int from = data.SequenceTargets ? lossFromStep * width : 0;
        double total = 0;
        long counted = 0;
        for (int i = 0; i < b; i++)
        {
            for (int j = from; j < per; j++)
            {
                double diff = x[(i * per) + j] - data.Targets![(indices[i] * per) + j];
                total += diff * diff;
                counted++;
            }
        }

        return total / counted;
    }

    private static double[] Sequence(ModelLayer layer, ReadOnlySpan<double> w, double[] x, int b, int steps) => layer switch
    {
        CellModelLayer c => CellReference.Forward(c.Options, w, x, b, steps).H,
        FeedforwardModelLayer f => Feedforward(f.Options, w, x, b, steps),
        _ => throw new ArgumentException(layer.GetType().Name),
    };

    /// <summary>Each sequence's T steps in reverse order.</summary>
    internal static double[] Reverse(double[] x, int b, int steps, int width)
    {
        var y = new double[x.Length];
        for (int i = 0; i < b; i++)
        {
            for (int t = 0; t < steps; t++)
            {
                Array.Copy(x, ((i * steps) + t) * width, y, ((i * steps) + steps - 1 - t) * width, width);
            }
        }

        return y;
    }

    /// <summary>[rows, p] and [rows, q] side by side: [rows, p + q].</summary>
    private static double[] Join(double[] left, double[] right, int rows, int p, int q)
    {
        var y = new double[rows * (p + q)];
        for (int r = 0; r < rows; r++)
        {
            Array.Copy(left, r * p, y, r * (p + q), p);
            Array.Copy(right, r * q, y, (r * (p + q)) + p, q);
        }

        return y;
    }

    private static double[] LastStep(double[] x, int b, int steps, int width)
    {
        var y = new double[b * width];
        for (int i = 0; i < b; i++)
        {
            Array.Copy(x, ((i * steps) + steps - 1) * width, y, i * width, width);
        }

        return y;
    }

    private static double[] Dense(ReadOnlySpan<double> w, double[] x, int rows, int inputs, int outputs, Activation act)
    {
        var y = new double[rows * outputs];
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outputs; o++)
            {
                double s = w[(outputs * inputs) + o];
                for (int i = 0; i < inputs; i++)
                {
                    s += w[(o * inputs) + i] * x[(r * inputs) + i];
                }

                y[(r * outputs) + o] = act.Apply(s);
            }
        }

        return y;
    }

    private static double[] Feedforward(FeedforwardLmuOptions o, ReadOnlySpan<double> w, double[] x, int b, int steps, double[]? m0 = null)
    {
        int k = o.MemoryChannels;
        int n = o.Units;
        int nx = o.InputSize;
        int d = o.Order;
        int kd = k * d;
        int ex = 0;
        int bu = k * nx;
        int wx = bu + k;
        int wm = wx + (n * nx);
        int bh = wm + (n * kd);
        double theta = w[bh + n];
        var system = LmuSystem.Create(d, theta, o.Dt, o.Discretizer);
        var aBar = system.DiscreteA;
        var bBar = system.DiscreteB;
        var y = new double[b * steps * n];
        for (int s = 0; s < b; s++)
        {
            var m = m0 is null ? new double[kd] : m0[(s * kd)..((s + 1) * kd)];
            for (int t = 0; t < steps; t++)
            {
                int row = (s * steps) + t;
                var mNew = new double[kd];
                for (int c = 0; c < k; c++)
                {
                    double u = o.MemoryBias ? w[bu + c] : 0;
                    for (int j = 0; j < nx; j++)
                    {
                        u += w[ex + (c * nx) + j] * x[(row * nx) + j];
                    }

                    for (int i = 0; i < d; i++)
                    {
                        double acc = bBar[i] * u;
                        for (int j = 0; j < d; j++)
                        {
                            acc += aBar[(i * d) + j] * m[(c * d) + j];
                        }

                        mNew[(c * d) + i] = acc;
                    }
                }

                m = mNew;
                for (int i = 0; i < n; i++)
                {
                    double z = o.HiddenBias ? w[bh + i] : 0;
                    for (int j = 0; j < kd; j++)
                    {
                        z += w[wm + (i * kd) + j] * m[j];
                    }

                    if (o.InputToHidden)
                    {
                        for (int j = 0; j < nx; j++)
                        {
                            z += w[wx + (i * nx) + j] * x[(row * nx) + j];
                        }
                    }

                    y[(row * n) + i] = o.Activation.Apply(z);
                }
            }
        }

        return y;
    }
}
