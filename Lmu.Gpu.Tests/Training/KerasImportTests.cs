using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Lmu.Gpu.Tests.Cli;
using Lmu.Gpu.Training;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Training;

/// <summary>
/// <see cref="LmuModel.ImportKeras(int, KerasLmuWeights)"/> and <see cref="NumpyArchive"/>: random Keras-layout arrays
/// imported into a model give, within 10⁻⁵ of the largest output, what a double-precision port of keras-lmu's own
/// <c>LMUCell.call</c> and <c>LMUFeedforward.call</c> (keras_lmu/layers.py: u = [x, h]·kernel + bias +
/// m·recurrent_kernel, m' = m·Āᵀ + u·B̄ᵀ per memory row, the hidden cell on [m', x]; Ā and B̄ from the matrix
/// exponential of the augmented matrix, as its <c>_cont2discrete_zoh</c>) gives for the same arrays. The arrays go
/// through an .npz file written here in numpy's format. No TensorFlow runs here: the port is the reference.
/// </summary>
[TestFixture]
public sealed class KerasImportTests : SimulatorAndHostFixture
{
    private const int Inputs = 3, Steps = 12, Batch = 2, Outputs = 2;

    private static float[] Random(int length, int seed, double width = 0.5)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(width * ((2 * rng.NextDouble()) - 1))).ToArray();
    }

    private static LmuCellOptions CellOptions(bool simpleRnn) => new()
    {
        InputSize = Inputs, Units = 5, MemoryChannels = 2, Order = 4, Theta = 7,
        HiddenToMemory = true, MemoryToMemory = true, InputToHidden = true, HiddenToHidden = simpleRnn,
        MemoryBias = true, HiddenBias = true, Activation = simpleRnn ? Activation.Tanh : Activation.Relu,
    };

    private static Dictionary<string, (int[] Shape, float[] Values)> CellArrays(LmuCellOptions o, bool simpleRnn)
    {
        int k = o.MemoryChannels, n = o.Units, kd = o.MemorySize, nx = o.InputSize;
        var arrays = new Dictionary<string, (int[], float[])>
        {
            ["lmu/lmu_cell/kernel:0"] = ([nx + n, k], Random((nx + n) * k, 1)),
            ["lmu/lmu_cell/bias:0"] = ([1, k], Random(k, 2)),
            ["lmu/lmu_cell/recurrent_kernel:0"] = ([kd, k], Random(kd * k, 3, 0.2)),
            ["lmu/lmu_cell/hidden/kernel:0"] = ([kd + nx, n], Random((kd + nx) * n, 4)),
            ["lmu/lmu_cell/hidden/bias:0"] = ([n], Random(n, 5)),
            ["dense/kernel:0"] = ([n, Outputs], Random(n * Outputs, 7)),
            ["dense/bias:0"] = ([Outputs], Random(Outputs, 8)),
        };
        if (simpleRnn)
        {
            arrays["lmu/lmu_cell/hidden/recurrent_kernel:0"] = ([n, n], Random(n * n, 6));
        }

        return arrays;
    }

    [TestCase(false, true)]
    [TestCase(false, false)]
    [TestCase(true, true)]
    public void Cell_ComputesWhatKerasLmuComputes(bool simulator, bool simpleRnn)
    {
        var o = CellOptions(simpleRnn);
        using var dir = new TempDirectory();
        var arrays = ReadBack(CellArrays(o, simpleRnn), dir.File("cell.npz"));
        using var model = new LmuModel(simulator ? Simulator : Host, Inputs, returnSequences: true, seed: 2).AddLmu(o).AddDense(Outputs);
        model.ImportKeras(0, Weights(arrays, simpleRnn));
        model.ImportKeras(1, new KerasDenseWeights { Kernel = arrays["dense/kernel:0"].Values, Bias = arrays["dense/bias:0"].Values });

        float[] x = Random(Batch * Steps * Inputs, 9, 1);
        double[] expected = KerasCell(o, arrays, x, simpleRnn, o.Theta);
        AssertClose(model.Predict(x, Batch, Steps), expected);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Feedforward_ComputesWhatKerasLmuFeedforwardComputes(bool simulator)
    {
        var o = new FeedforwardLmuOptions
        {
            InputSize = Inputs, Units = 4, MemoryChannels = 2, Order = 5, Theta = 9, InputToHidden = true, MemoryBias = true, HiddenBias = true,
            Activation = Activation.Relu,
        };
        int k = o.MemoryChannels, n = o.Units, kd = o.MemorySize;
        using var dir = new TempDirectory();
        var arrays = ReadBack(new()
        {
            ["lmu_feedforward/kernel:0"] = ([Inputs, k], Random(Inputs * k, 11)),
            ["lmu_feedforward/bias:0"] = ([1, k], Random(k, 12)),
            ["lmu_feedforward/dense/kernel:0"] = ([kd + Inputs, n], Random((kd + Inputs) * n, 13)),
            ["lmu_feedforward/dense/bias:0"] = ([n], Random(n, 14)),
            ["dense/kernel:0"] = ([n, Outputs], Random(n * Outputs, 15)),
            ["dense/bias:0"] = ([Outputs], Random(Outputs, 16)),
        }, dir.File("ff.npz"));
        using var model = new LmuModel(simulator ? Simulator : Host, Inputs, returnSequences: true, seed: 2).AddFeedforwardLmu(o).AddDense(Outputs);
        model.ImportKeras(0, new KerasLmuWeights
        {
            Kernel = arrays["lmu_feedforward/kernel:0"].Values,
            Bias = arrays["lmu_feedforward/bias:0"].Values,
            HiddenKernel = arrays["lmu_feedforward/dense/kernel:0"].Values,
            HiddenBias = arrays["lmu_feedforward/dense/bias:0"].Values,
        });
        model.ImportKeras(1, new KerasDenseWeights { Kernel = arrays["dense/kernel:0"].Values, Bias = arrays["dense/bias:0"].Values });

        float[] x = Random(Batch * Steps * Inputs, 17, 1);
        var (a, b) = Zoh(o.Order, o.Theta);
        var expected = new double[Batch * Steps * Outputs];
        var kernel = arrays["lmu_feedforward/kernel:0"].Values;
        var bias = arrays["lmu_feedforward/bias:0"].Values;
        for (int s = 0; s < Batch; s++)
        {
            var m = new double[kd];
            for (int t = 0; t < Steps; t++)
            {
                var xt = x.AsSpan(((s * Steps) + t) * Inputs, Inputs).ToArray().Select(v => (double)v).ToArray();
                var u = MatVec(xt, kernel, k).Select((v, c) => v + bias[c]).ToArray();
                m = MemoryStep(m, u, a, b, k, o.Order);
                var h = MatVec([.. m, .. xt], arrays["lmu_feedforward/dense/kernel:0"].Values, n)
                    .Select((v, j) => Math.Max(0, v + arrays["lmu_feedforward/dense/bias:0"].Values[j])).ToArray();
                Head(h, arrays, expected, (s * Steps) + t);
            }
        }

        AssertClose(model.Predict(x, Batch, Steps), expected);
    }

    [Test]
    public void Cell_WithConnectionsTheKerasLayerLacks_ComputesWhatItComputes()
    {
        // keras-lmu's defaults: no hidden_to_memory, memory_to_memory or input_to_hidden. The reference gets those
        // arrays as zeros; the model (every connection on) gets only what such a Keras layer holds.
        var o = CellOptions(true);
        int k = o.MemoryChannels, n = o.Units, kd = o.MemorySize;
        var arrays = CellArrays(o, true);
        Array.Clear(arrays["lmu/lmu_cell/kernel:0"].Values, Inputs * k, n * k);
        Array.Clear(arrays["lmu/lmu_cell/recurrent_kernel:0"].Values);
        Array.Clear(arrays["lmu/lmu_cell/hidden/kernel:0"].Values, kd * n, Inputs * n);
        using var model = new LmuModel(Host, Inputs, returnSequences: true, seed: 2).AddLmu(o).AddDense(Outputs);
        model.ImportKeras(0, new KerasLmuWeights
        {
            Kernel = arrays["lmu/lmu_cell/kernel:0"].Values[..(Inputs * k)],
            Bias = arrays["lmu/lmu_cell/bias:0"].Values,
            HiddenKernel = arrays["lmu/lmu_cell/hidden/kernel:0"].Values[..(kd * n)],
            HiddenRecurrentKernel = arrays["lmu/lmu_cell/hidden/recurrent_kernel:0"].Values,
            HiddenBias = arrays["lmu/lmu_cell/hidden/bias:0"].Values,
        });
        model.ImportKeras(1, new KerasDenseWeights { Kernel = arrays["dense/kernel:0"].Values, Bias = arrays["dense/bias:0"].Values });
        float[] x = Random(Batch * Steps * Inputs, 23, 1);
        AssertClose(model.Predict(x, Batch, Steps), KerasCell(o, arrays, x, true, o.Theta));
    }

    [Test]
    public void Export_RoundTripsThroughImport_AndThroughAnNpzFile()
    {
        var cell = CellOptions(true) with { TrainableTheta = true };
        var feedforward = new FeedforwardLmuOptions { InputSize = 5, Units = 4, MemoryChannels = 2, Order = 3, Theta = 6, InputToHidden = true, MemoryBias = true };
        LmuModel Build() => new LmuModel(Host, Inputs, returnSequences: true, seed: 4).AddLmu(cell).AddFeedforwardLmu(feedforward).AddDense(Outputs);
        using var trained = Build();
        trained.SetParameters(trained.ParametersWithNoise(seed: 41, width: 0.4));
        var exported = trained.ExportKerasLmu(0);
        Assert.That(exported.ThetaInverse, Is.EqualTo(1.0 / trained.GetParameters()[CellThetaIndex(cell)]));

        using var dir = new TempDirectory();
        string path = dir.File("exported.npz");
        NumpyArchive.Write(path, new Dictionary<string, NumpyArray>
        {
            ["cell/kernel:0"] = new([Inputs + cell.Units, cell.MemoryChannels], exported.Kernel!),
            ["cell/bias:0"] = new([1, cell.MemoryChannels], exported.Bias!),
            ["cell/recurrent_kernel:0"] = new([cell.MemorySize, cell.MemoryChannels], exported.RecurrentKernel!),
            ["cell/hidden/kernel:0"] = new([cell.MemorySize + Inputs, cell.Units], exported.HiddenKernel),
            ["cell/hidden/recurrent_kernel:0"] = new([cell.Units, cell.Units], exported.HiddenRecurrentKernel!),
            ["cell/hidden/bias:0"] = new([cell.Units], exported.HiddenBias!),
            ["cell/theta_inv:0"] = new([], [(float)exported.ThetaInverse!.Value]),
        });
        var read = NumpyArchive.Read(path);
        Assert.That(read["cell/hidden/kernel:0"].Shape, Is.EqualTo(new[] { cell.MemorySize + Inputs, cell.Units }));
        Assert.That(read["cell/hidden/kernel:0"].Values, Is.EqualTo(exported.HiddenKernel));

        using var imported = Build();
        imported.ImportKeras(0, new KerasLmuWeights
        {
            Kernel = read["cell/kernel:0"].Values,
            Bias = read["cell/bias:0"].Values,
            RecurrentKernel = read["cell/recurrent_kernel:0"].Values,
            HiddenKernel = read["cell/hidden/kernel:0"].Values,
            HiddenRecurrentKernel = read["cell/hidden/recurrent_kernel:0"].Values,
            HiddenBias = read["cell/hidden/bias:0"].Values,
            ThetaInverse = exported.ThetaInverse,
        });
        imported.ImportKeras(1, trained.ExportKerasLmu(1));
        imported.ImportKeras(2, trained.ExportKerasDense(2));
        Assert.That(imported.GetParameters(), Is.EqualTo(trained.GetParameters()).Within(1e-6));
        Assert.That(trained.ExportKerasLmu(1).RecurrentKernel, Is.Null, "a feedforward layer has none");
        Assert.Throws<ArgumentException>(() => trained.ExportKerasDense(0));
        Assert.Throws<ArgumentException>(() => trained.ExportKerasLmu(2));
        Assert.Throws<ArgumentException>(() => NumpyArchive.Write(path, new Dictionary<string, NumpyArray> { ["x"] = new([2, 2], [1, 2, 3]) }));
    }

    /// <summary>θ's index in the flat vector of a model whose first layer is the cell: the cell's last parameter.</summary>
    private static int CellThetaIndex(LmuCellOptions o) =>
        (o.MemoryChannels * (o.InputSize + o.Units + o.MemorySize + 1)) + (o.Units * (o.InputSize + o.Units + o.MemorySize + 1));

    [Test]
    public void TrainedTheta_ComesFromThetaInv()
    {
        var o = CellOptions(true) with { TrainableTheta = true };
        var arrays = CellArrays(o, true);
        using var model = new LmuModel(Host, Inputs, returnSequences: true, seed: 2).AddLmu(o).AddDense(Outputs);
        model.ImportKeras(0, Weights(arrays, true) with { ThetaInverse = 1 / 5.5 });
        model.ImportKeras(1, new KerasDenseWeights { Kernel = arrays["dense/kernel:0"].Values, Bias = arrays["dense/bias:0"].Values });
        float[] x = Random(Batch * Steps * Inputs, 19, 1);
        AssertClose(model.Predict(x, Batch, Steps), KerasCell(o, arrays, x, true, 5.5));

        using var fixedTheta = new LmuModel(Host, Inputs, returnSequences: true).AddLmu(CellOptions(true)).AddDense(Outputs);
        var e = Assert.Throws<ArgumentException>(() => fixedTheta.ImportKeras(0, Weights(arrays, true) with { ThetaInverse = 0.2 }));
        Assert.That(e!.Message, Does.Contain("TrainableTheta"));
    }

    [Test]
    public void ImportKeras_ThrowsForArraysThatDoNotFit_AndChangesNothing()
    {
        var o = CellOptions(true);
        var arrays = CellArrays(o, true);
        using var model = new LmuModel(Host, Inputs, returnSequences: true).AddLmu(o).AddDense(Outputs);
        float[] before = model.GetParameters();
        var good = Weights(arrays, true);

        var e = Assert.Throws<ArgumentException>(() => model.ImportKeras(0, good with { HiddenKernel = new float[7] }));
        Assert.That(e!.Message, Does.Contain("The hidden kernel holds 7 values"));
        e = Assert.Throws<ArgumentException>(() => model.ImportKeras(0, good with { Kernel = new float[(Inputs + 1) * 2] }));
        Assert.That(e!.Message, Does.Contain("kernel holds 8 values").And.Contain("hidden_to_memory"));
        e = Assert.Throws<ArgumentException>(() => model.ImportKeras(1, good));
        Assert.That(e!.Message, Does.Contain("not an LMU layer"));
        e = Assert.Throws<ArgumentException>(() => model.ImportKeras(0, new KerasDenseWeights { Kernel = new float[4] }));
        Assert.That(e!.Message, Does.Contain("not a dense layer"));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.ImportKeras(2, good));
        float[] nan = (float[])good.HiddenKernel.Clone();
        nan[3] = float.NaN;
        Assert.Throws<ArgumentException>(() => model.ImportKeras(0, good with { HiddenKernel = nan }));

        using var plain = new LmuModel(Host, Inputs, returnSequences: true).AddLmu(o with { MemoryBias = false, MemoryToMemory = false }).AddDense(Outputs);
        e = Assert.Throws<ArgumentException>(() => plain.ImportKeras(0, good));
        Assert.That(e!.Message, Does.Contain("MemoryBias"));
        using var feedforward = new LmuModel(Host, Inputs, returnSequences: true)
            .AddFeedforwardLmu(new FeedforwardLmuOptions { InputSize = Inputs, Units = 5, MemoryChannels = 2, Order = 4, Theta = 7 }).AddDense(Outputs);
        e = Assert.Throws<ArgumentException>(() => feedforward.ImportKeras(0, good));
        Assert.That(e!.Message, Does.Contain("no recurrent weights"));
        Assert.That(model.GetParameters(), Is.EqualTo(before), "nothing was written");
    }

    [Test]
    public void NumpyArchive_ReadsFortranOrderFloat64BigEndianAndIntegers_AndRefusesBadFiles()
    {
        using var dir = new TempDirectory();
        float[] values = Random(6, 21);
        string path = dir.File("mixed.npz");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            Entry(zip, "c.npy", Npy([2, 3], values, "<f4", fortran: false));
            Entry(zip, "f.npy", Npy([2, 3], values, "<f8", fortran: true));
            Entry(zip, "b.npy", Npy([2, 3], values, ">f4", fortran: false));
            Entry(zip, "s.npy", Npy([], [2.5f], "<f4", fortran: false));
        }

        var arrays = NumpyArchive.Read(path);
        Assert.That(arrays["c"].Shape, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(arrays["c"].Values, Is.EqualTo(values));
        Assert.That(arrays["f"].Values, Is.EqualTo(values));
        Assert.That(arrays["b"].Values, Is.EqualTo(values));
        Assert.That(arrays["s"].Scalar, Is.EqualTo(2.5f));

        string single = dir.File("one.npy");
        File.WriteAllBytes(single, Npy([3], [1, 2, 3], "<f4", false));
        Assert.That(NumpyArchive.Read(single)["one"].Values, Is.EqualTo(new float[] { 1, 2, 3 }));
        File.WriteAllBytes(single, Npy([3], [1, 2, 3], "<f4", false)[..^2]);
        Assert.That(Assert.Throws<InvalidDataException>(() => NumpyArchive.Read(single))!.Message, Does.Contain("truncated"));
        foreach (var (descr, stored) in new[] { ("<i4", new float[] { -7, 2 }), ("<i8", [-3, 123_456]), (">i2", [-300, 5]), ("|u1", [0, 255]), ("|b1", [1, 0]) })
        {
            File.WriteAllBytes(single, Npy([2], stored, descr, false));
            Assert.That(NumpyArchive.Read(single)["one"].Values, Is.EqualTo(stored), descr);
        }

        File.WriteAllBytes(single, Npy([2], [1, 2], "<c8", false));
        Assert.That(Assert.Throws<InvalidDataException>(() => NumpyArchive.Read(single))!.Message, Does.Contain("dtype '<c8' is not a float"));
        File.WriteAllText(single, "hello");
        Assert.That(Assert.Throws<InvalidDataException>(() => NumpyArchive.Read(single))!.Message, Does.Contain("not a numpy"));
        Assert.Throws<FileNotFoundException>(() => NumpyArchive.Read(dir.File("missing.npz")));
    }

    /// <summary>The README's import example, verbatim apart from the device and the file's place, on an archive with
    /// the paper's psMNIST shapes under keras-lmu's names.</summary>
    [Test]
    public void ReadmeExample_Runs()
    {
        using var dir = new TempDirectory();
        string path = dir.File("lmu.npz");
        ReadBack(new()
        {
            ["lmu/lmu_cell/kernel:0"] = ([1, 1], [1f]),
            ["lmu/lmu_cell/simple_rnn_cell/kernel:0"] = ([256, 212], Random(256 * 212, 31, 0.05)),
            ["lmu/lmu_cell/simple_rnn_cell/recurrent_kernel:0"] = ([212, 212], Random(212 * 212, 32, 0.05)),
            ["lmu/lmu_cell/simple_rnn_cell/bias:0"] = ([212], Random(212, 33)),
            ["dense/kernel:0"] = ([212, 10], Random(2120, 34)),
            ["dense/bias:0"] = ([10], Random(10, 35)),
        }, path);
        var device = Host;

        var w = NumpyArchive.Read(path);
        using var imported = new LmuModel(device, inputSize: 1, returnSequences: false)
            .AddLmu(new LmuCellOptions { InputSize = 1, Units = 212, Order = 256, Theta = 784, MemoryChannels = 1,
                HiddenToMemory = false, MemoryToMemory = false, InputToHidden = false, HiddenToHidden = true, HiddenBias = true })
            .AddDense(10);
        imported.ImportKeras(0, new KerasLmuWeights
        {
            Kernel = w["lmu/lmu_cell/kernel:0"].Values,                       // [n_x, k] (names as your model saved them)
            HiddenKernel = w["lmu/lmu_cell/simple_rnn_cell/kernel:0"].Values, // [k·d, n]
            HiddenRecurrentKernel = w["lmu/lmu_cell/simple_rnn_cell/recurrent_kernel:0"].Values,
            HiddenBias = w["lmu/lmu_cell/simple_rnn_cell/bias:0"].Values,
        });
        imported.ImportKeras(1, new KerasDenseWeights { Kernel = w["dense/kernel:0"].Values, Bias = w["dense/bias:0"].Values });

        float[] y = imported.Predict(Random(784, 36, 1), 1, 784);
        Assert.That(y, Has.Length.EqualTo(10).And.All.Not.NaN);
        Assert.That(y.Max() - y.Min(), Is.GreaterThan(0));
    }

    private static KerasLmuWeights Weights(Dictionary<string, (int[] Shape, float[] Values)> arrays, bool simpleRnn) => new()
    {
        Kernel = arrays["lmu/lmu_cell/kernel:0"].Values,
        Bias = arrays["lmu/lmu_cell/bias:0"].Values,
        RecurrentKernel = arrays["lmu/lmu_cell/recurrent_kernel:0"].Values,
        HiddenKernel = arrays["lmu/lmu_cell/hidden/kernel:0"].Values,
        HiddenRecurrentKernel = simpleRnn ? arrays["lmu/lmu_cell/hidden/recurrent_kernel:0"].Values : null,
        HiddenBias = arrays["lmu/lmu_cell/hidden/bias:0"].Values,
    };

    /// <summary>keras-lmu's LMUCell.call over [B, T, n_x] with the hidden cell and then the Dense head, in double.</summary>
    private static double[] KerasCell(LmuCellOptions o, Dictionary<string, (int[] Shape, float[] Values)> w, float[] x, bool simpleRnn, double theta)
    {
        int k = o.MemoryChannels, n = o.Units, kd = o.MemorySize;
        var (a, b) = Zoh(o.Order, theta);
        var result = new double[Batch * Steps * Outputs];
        for (int s = 0; s < Batch; s++)
        {
            var h = new double[n];
            var m = new double[kd];
            for (int t = 0; t < Steps; t++)
            {
                var xt = x.AsSpan(((s * Steps) + t) * Inputs, Inputs).ToArray().Select(v => (double)v).ToArray();
                var u = MatVec([.. xt, .. h], w["lmu/lmu_cell/kernel:0"].Values, k);
                var rec = MatVec(m, w["lmu/lmu_cell/recurrent_kernel:0"].Values, k);
                u = u.Select((v, c) => v + w["lmu/lmu_cell/bias:0"].Values[c] + rec[c]).ToArray();
                m = MemoryStep(m, u, a, b, k, o.Order);
                var z = MatVec([.. m, .. xt], w["lmu/lmu_cell/hidden/kernel:0"].Values, n);
                var hh = simpleRnn ? MatVec(h, w["lmu/lmu_cell/hidden/recurrent_kernel:0"].Values, n) : new double[n];
                h = z.Select((v, j) => v + hh[j] + w["lmu/lmu_cell/hidden/bias:0"].Values[j]).Select(v => simpleRnn ? Math.Tanh(v) : Math.Max(0, v)).ToArray();
                Head(h, w, result, (s * Steps) + t);
            }
        }

        return result;
    }

    private static void Head(double[] h, Dictionary<string, (int[] Shape, float[] Values)> w, double[] result, int row)
    {
        var y = MatVec(h, w["dense/kernel:0"].Values, Outputs);
        for (int o = 0; o < Outputs; o++)
        {
            result[(row * Outputs) + o] = y[o] + w["dense/bias:0"].Values[o];
        }
    }

    /// <summary>v [rows] · kernel [rows, cols] (Keras's matmul of a row vector).</summary>
    private static double[] MatVec(double[] v, float[] kernel, int cols)
    {
        var r = new double[cols];
        for (int i = 0; i < v.Length; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                r[j] += v[i] * kernel[(i * cols) + j];
            }
        }

        return r;
    }

    /// <summary>m reshaped [k, d]: m_c ← m_c·Āᵀ + u_c·B̄ᵀ.</summary>
    private static double[] MemoryStep(double[] m, double[] u, double[,] a, double[] b, int k, int d)
    {
        var next = new double[k * d];
        for (int c = 0; c < k; c++)
        {
            for (int i = 0; i < d; i++)
            {
                double sum = b[i] * u[c];
                for (int j = 0; j < d; j++)
                {
                    sum += a[i, j] * m[(c * d) + j];
                }

                next[(c * d) + i] = sum;
            }
        }

        return next;
    }

    /// <summary>Ā and B̄ from expm([[A, B], [0, 0]]/θ), A and B as keras-lmu's _gen_AB builds them, the exponential by
    /// scaling and squaring a 30-term Taylor series in double.</summary>
    private static (double[,] A, double[] B) Zoh(int d, double theta)
    {
        int size = d + 1;
        var mat = new double[size, size];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                mat[i, j] = (2 * i + 1) * (i < j ? -1 : Math.Pow(-1, i - j + 1)) / theta;
            }

            mat[i, d] = (2 * i + 1) * Math.Pow(-1, i) / theta;
        }

        int squarings = 8;
        var scaled = new double[size, size];
        for (int i = 0; i < size; i++)
        {
            for (int j = 0; j < size; j++)
            {
                scaled[i, j] = mat[i, j] / (1 << squarings);
            }
        }

        var result = Identity(size);
        var term = Identity(size);
        for (int n = 1; n <= 30; n++)
        {
            term = Multiply(term, scaled);
            for (int i = 0; i < size; i++)
            {
                for (int j = 0; j < size; j++)
                {
                    term[i, j] /= n;
                    result[i, j] += term[i, j];
                }
            }
        }

        for (int s = 0; s < squarings; s++)
        {
            result = Multiply(result, result);
        }

        var a = new double[d, d];
        var b = new double[d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                a[i, j] = result[i, j];
            }

            b[i] = result[i, d];
        }

        return (a, b);
    }

    private static double[,] Identity(int size)
    {
        var r = new double[size, size];
        for (int i = 0; i < size; i++)
        {
            r[i, i] = 1;
        }

        return r;
    }

    private static double[,] Multiply(double[,] x, double[,] y)
    {
        int size = x.GetLength(0);
        var r = new double[size, size];
        for (int i = 0; i < size; i++)
        {
            for (int l = 0; l < size; l++)
            {
                for (int j = 0; j < size; j++)
                {
                    r[i, j] += x[i, l] * y[l, j];
                }
            }
        }

        return r;
    }

    private static void AssertClose(float[] actual, double[] expected)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        double scale = expected.Max(Math.Abs);
        double error = actual.Zip(expected, (a, e) => Math.Abs(a - e)).Max();
        Assert.That(error, Is.LessThanOrEqualTo(1e-5 * scale), $"largest error {error:G3} of {scale:G3}");
    }

    /// <summary>Writes the arrays to an .npz as numpy would (float32, C order) and reads them back.</summary>
    private static Dictionary<string, (int[] Shape, float[] Values)> ReadBack(Dictionary<string, (int[] Shape, float[] Values)> arrays, string path)
    {
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (var (name, (shape, values)) in arrays)
            {
                Entry(zip, name + ".npy", Npy(shape, values, "<f4", fortran: false));
            }
        }

        var read = NumpyArchive.Read(path);
        Assert.That(read.Keys, Is.EquivalentTo(arrays.Keys));
        return read.ToDictionary(p => p.Key, p => (p.Value.Shape.ToArray(), p.Value.Values));
    }

    internal static void Entry(ZipArchive zip, string name, byte[] bytes)
    {
        using var stream = zip.CreateEntry(name).Open();
        stream.Write(bytes);
    }

    /// <summary>An .npy file, format 1.0: magic, version, header length, the header dict padded to 64 bytes, data.</summary>
    internal static byte[] Npy(int[] shape, float[] values, string descr, bool fortran)
    {
        string tuple = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        string dict = $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {tuple}, }}";
        int total = 10 + dict.Length + 1;
        string header = dict + new string(' ', (64 - (total % 64)) % 64) + "\n";
        using var stream = new MemoryStream();
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.Latin1.GetBytes(header));
        float[] ordered = values;
        if (fortran)
        {
            // Column-major: element (i, j) of [r, c] at j·r + i.
            int r = shape[0], c = shape[1];
            ordered = new float[values.Length];
            for (int i = 0; i < r; i++)
            {
                for (int j = 0; j < c; j++)
                {
                    ordered[(j * r) + i] = values[(i * c) + j];
                }
            }
        }

        Span<byte> bytes = stackalloc byte[8];
        foreach (float v in ordered)
        {
            switch (descr)
            {
                case "<f4":
                    BinaryPrimitives.WriteSingleLittleEndian(bytes, v);
                    stream.Write(bytes[..4]);
                    break;
                case ">f4":
                    BinaryPrimitives.WriteSingleBigEndian(bytes, v);
                    stream.Write(bytes[..4]);
                    break;
                case "<f8":
                    BinaryPrimitives.WriteDoubleLittleEndian(bytes, v);
                    stream.Write(bytes);
                    break;
                case "<i8":
                    BinaryPrimitives.WriteInt64LittleEndian(bytes, (long)v);
                    stream.Write(bytes);
                    break;
                case ">i2":
                    BinaryPrimitives.WriteInt16BigEndian(bytes, (short)v);
                    stream.Write(bytes[..2]);
                    break;
                case "|u1" or "|b1":
                    stream.WriteByte((byte)v);
                    break;
                default:
                    BinaryPrimitives.WriteInt32LittleEndian(bytes, (int)v);
                    stream.Write(bytes[..4]);
                    break;
            }
        }

        return stream.ToArray();
    }
}
