using Lmu.Gpu.Kernels.Cell;

namespace Lmu.Gpu;

/// <summary>Offsets of a cell's tensors in its flat weight vector: e_x, e_h, e_m, b_u, W_x, W_h, W_m, b_h, θ.</summary>
internal readonly record struct CellLayout(int Ex, int Eh, int Em, int Bu, int Wx, int Wh, int Wm, int Bh, int Theta, int Length)
{
    public static CellLayout For(LmuCellOptions o)
    {
        int k = o.MemoryChannels;
        int n = o.Units;
        int nx = o.InputSize;
        int kd = o.MemorySize;
        int ex = 0;
        int eh = ex + (k * nx);
        int em = eh + (k * n);
        int bu = em + (k * kd);
        int wx = bu + k;
        int wh = wx + (n * nx);
        int wm = wh + (n * n);
        int bh = wm + (n * kd);
        int theta = bh + n;
        return new CellLayout(ex, eh, em, bu, wx, wh, wm, bh, theta, theta + 1);
    }

    public static long TotalLength(LmuCellOptions o)
    {
        long k = o.MemoryChannels;
        long n = o.Units;
        long kd = k * o.Order;
        return (k * o.InputSize) + (k * n) + (k * kd) + k + (n * o.InputSize) + (n * n) + (n * kd) + n + 1;
    }

    public static int FlagsFor(LmuCellOptions o)
    {
        int flags = 0;
        flags |= o.InputToHidden ? CellFlags.InputToHidden : 0;
        flags |= o.HiddenToMemory ? CellFlags.HiddenToMemory : 0;
        flags |= o.MemoryToMemory ? CellFlags.MemoryToMemory : 0;
        flags |= o.HiddenToHidden ? CellFlags.HiddenToHidden : 0;
        flags |= o.MemoryBias ? CellFlags.MemoryBias : 0;
        flags |= o.HiddenBias ? CellFlags.HiddenBias : 0;
        flags |= o.Discretizer == Discretizer.Euler ? CellFlags.Euler : 0;
        return flags;
    }

    public CellParams Params(LmuCellOptions o, int steps, int extraFlags, double theta) => new(
        o.InputSize, o.Units, o.Order, o.MemoryChannels, steps, (int)o.Activation, FlagsFor(o) | extraFlags,
        Ex, Eh, Em, Bu, Wx, Wh, Wm, Bh, (float)(-o.Dt / (theta * theta)));

    /// <summary>The system buffer the kernels read: Ā, B̄, A, B (continuous, without 1/θ), Āᵀ, in float32.</summary>
    public static float[] SystemBuffer(LmuSystem system)
    {
        int d = system.Order;
        var buffer = new float[(3 * d * d) + (2 * d)];
        var aBar = system.DiscreteA;
        var bBar = system.DiscreteB;
        var a = system.A;
        var b = system.B;
        for (int i = 0; i < d * d; i++)
        {
            buffer[i] = (float)aBar[i];
            buffer[(d * d) + d + i] = (float)a[i];
        }

        for (int i = 0; i < d; i++)
        {
            buffer[(d * d) + i] = (float)bBar[i];
            buffer[(2 * d * d) + d + i] = (float)b[i];
            for (int j = 0; j < d; j++)
            {
                buffer[(2 * d * d) + (2 * d) + (j * d) + i] = (float)aBar[(i * d) + j];
            }
        }

        return buffer;
    }
}
