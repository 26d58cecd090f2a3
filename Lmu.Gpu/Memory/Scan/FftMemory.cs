using MathNet.Numerics;
using MathNet.Numerics.IntegralTransforms;

namespace Lmu.Gpu;

/// <summary>
/// The baseline of keras-lmu's LMUFeedforward (conv_mode="fft"), on the host: the states from a zero start are the
/// causal convolution of the input with the impulse response h_k = Ā^k·B̄, computed per order channel by FFT of
/// length N (the power of two ≥ 2T, so the convolution is linear) in float32 (MathNet.Numerics). The spectra of h are
/// computed once per instance (keras-lmu recomputes them in every call); a run costs 1 + d FFTs of length N per
/// sequence, parallel over the d channels.
/// </summary>
internal sealed class FftMemory
{
    private readonly int _order;
    private readonly int _steps;
    private readonly int _length;
    private readonly Complex32[][] _spectra;

    public FftMemory(LmuSystem system, int steps)
    {
        _order = system.Order;
        _steps = steps;
        _length = 1;
        while (_length < 2 * steps)
        {
            _length *= 2;
        }

        double[] h = system.ImpulseResponse(steps);
        _spectra = new Complex32[_order][];
        HostThreads.For(_order, i =>
        {
            var spectrum = new Complex32[_length];
            for (int k = 0; k < steps; k++)
            {
                spectrum[k] = new Complex32((float)h[(long)k * _order + i], 0);
            }

            Fourier.Forward(spectrum, FourierOptions.NoScaling);
            _spectra[i] = spectrum;
        });
    }

    /// <summary>States [B, T, 1, d] for inputs [B, T] (one channel) from zero states.</summary>
    public void RunStates(ReadOnlySpan<float> input, int batch, float[] output)
    {
        for (int b = 0; b < batch; b++)
        {
            var u = new Complex32[_length];
            for (int t = 0; t < _steps; t++)
            {
                u[t] = new Complex32(input[b * _steps + t], 0);
            }

            Fourier.Forward(u, FourierOptions.NoScaling);
            long offset = (long)b * _steps * _order;
            Parallel.For(0, _order, HostThreads.Options, () => new Complex32[_length], (i, _, y) =>
            {
                var h = _spectra[i];
                for (int f = 0; f < _length; f++)
                {
                    y[f] = u[f] * h[f];
                }

                Fourier.Inverse(y, FourierOptions.NoScaling);
                float scale = 1f / _length;
                for (int t = 0; t < _steps; t++)
                {
                    output[offset + (long)t * _order + i] = y[t].Real * scale;
                }

                return y;
            }, _ => { });
        }
    }
}
