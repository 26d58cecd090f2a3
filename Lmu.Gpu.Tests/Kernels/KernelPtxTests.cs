using System.Reflection;
using ILGPU;
using Lmu.Gpu.Kernels.Cell;
using Lmu.Gpu.Kernels.Memory;
using Lmu.Gpu.Kernels.Spiking;
using Lmu.Gpu.Kernels.Training;

namespace Lmu.Gpu.Tests.Kernels;

/// <summary>Compiles the memory, scan, cell and training kernels with ILGPU's PTX backend (sm_80, no GPU needed), so
/// that code the CPU simulator accepts but the CUDA backend rejects is caught without a GPU.</summary>
[TestFixture]
public sealed class KernelPtxTests
{
    private static IEnumerable<TestCaseData> ExplicitlyGrouped()
    {
        yield return new TestCaseData(typeof(LinearMemoryKernels), nameof(LinearMemoryKernels.Sequence));
        yield return new TestCaseData(typeof(ScanKernels), nameof(ScanKernels.ChunkEnds));
        yield return new TestCaseData(typeof(ScanKernels), nameof(ScanKernels.Carries));
        yield return new TestCaseData(typeof(WindowKernels), nameof(WindowKernels.WindowStates));
        yield return new TestCaseData(typeof(ScanKernels), nameof(ScanKernels.ChunkSteps));
        yield return new TestCaseData(typeof(ScanGemmKernels), nameof(ScanGemmKernels.ChunkStates));
        yield return new TestCaseData(typeof(CellKernels), nameof(CellKernels.Forward));
        yield return new TestCaseData(typeof(CellKernels), nameof(CellKernels.Backward));
        yield return new TestCaseData(typeof(TrainingKernels), nameof(TrainingKernels.MemoryAdjoint));
    }

    [TestCaseSource(nameof(ExplicitlyGrouped))]
    public void Kernel_CompilesToPtx(Type type, string name)
    {
        string ptx = Compile(type.GetMethod(name)!);
        Assert.That(ptx, Does.Contain(".target sm_80"));
    }

    [Test]
    public void ChunkSteps_KeepsTheRegisterTileOutOfLocalMemory()
    {
        // The 4×4 tile (Tile4x4Sums, sixteen accumulators) must live in registers: a struct left in local memory would
        // turn every FMA into local loads and stores.
        string ptx = Compile(typeof(ScanKernels).GetMethod(nameof(ScanKernels.ChunkSteps))!);
        Assert.That(ptx, Does.Not.Contain("ld.local").And.Not.Contain("st.local"));
    }

    [TestCase("chunk-states-tf32")]
    [TestCase("window-product-tf32")]
    public void Tf32Products_DeclareTheirAccumulatorsBeforeTheProductAndReadLocalMemoryOnlyAfterIt(string kernel)
    {
        // The inline PTX's accumulators (lmuacc0 … 63) and tile are declared in the entry block, before any use; the
        // stage loop runs the one Step statement (48 mma, run once per depth half); the only local-memory reads are the
        // 64 accumulators' read-back after the loop (ILGPU passes asm outputs through local slots), none in the loop.
        // Phase C's product and the window product share that loop (TensorLoop).
        string ptx = KernelPtx.Compile(kernel);
        int declared = ptx.IndexOf(".reg .f32 lmuacc<64>;", StringComparison.Ordinal);
        int firstMma = ptx.IndexOf("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32", StringComparison.Ordinal);
        Assert.That(declared, Is.GreaterThan(0));
        Assert.That(ptx.IndexOf("lmuacc", StringComparison.Ordinal), Is.EqualTo(declared + ".reg .f32 ".Length));
        Assert.That(ptx.IndexOf(".shared .align 16 .b8 lmutile[", StringComparison.Ordinal), Is.InRange(declared, firstMma));
        Assert.That(firstMma, Is.GreaterThan(declared));
        Assert.That(ptx.Split("mma.sync.aligned").Length - 1, Is.EqualTo(48));
        string[] lines = ptx.Split('\n').Select(l => l.TrimStart()).ToArray();
        Assert.That(lines.Count(l => l.StartsWith("ld.local", StringComparison.Ordinal)), Is.EqualTo(64));
        Assert.That(lines.Count(l => l.StartsWith("ld.local.f32", StringComparison.Ordinal)), Is.EqualTo(64));
        Assert.That(lines.Count(l => l.StartsWith("mov.f32", StringComparison.Ordinal) && l.Contains("lmuacc", StringComparison.Ordinal)), Is.EqualTo(64));
        Assert.That(ptx, Does.Contain(".maxntid 256, 1, 1"));
    }

    [Test]
    public void ChunkStates_KeepsTheRegisterTileOutOfLocalMemory()
    {
        // The 8×8 tile (Tile8x8, 64 accumulators) and the staged next block (GemmStage, 16 values) must live in
        // registers, and one rank-1 update must be 64 multiply-adds on four 16-byte shared loads (Float4 through the
        // aligned view) with no scalar shared loads of operands. ILGPU emits mul.f32 + add.f32 without rounding
        // modifiers, which ptxas contracts into FFMA. Compiled without the group side specialised, both depth loops
        // are there: four rank-1 updates per iteration (side ≥ 4) and one (smaller sides): 5 × 4 vector loads.
        string ptx = Compile(typeof(ScanGemmKernels).GetMethod(nameof(ScanGemmKernels.ChunkStates))!);
        Assert.That(ptx, Does.Not.Contain("ld.local").And.Not.Contain("st.local"));
        string[] lines = ptx.Split('\n').Select(l => l.TrimStart()).ToArray();
        Assert.That(lines.Count(l => l.StartsWith("mul.f32", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(64));
        Assert.That(lines.Count(l => l.StartsWith("add.f32", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(64));
        Assert.That(lines.Count(l => l.StartsWith("ld.shared.v4.f32", StringComparison.Ordinal)), Is.EqualTo(20));
        Assert.That(lines.Count(l => l.StartsWith("ld.shared.f32", StringComparison.Ordinal)), Is.Zero);
    }

    [Test]
    public void ChunkStates_AtTheGpuGroupSide_StaysInRegisters()
    {
        // As launched on a GPU (side = 16 as a constant, 256 threads, 128 × 128 blocks): still no local memory, only the
        // unrolled depth loop (four rank-1 updates on 16 vector loads), and a stage staged through 16 scalar stores.
        string ptx = KernelPtx.Compile("chunk-states", side: 16, groupsPerMultiprocessor: 0);
        Assert.That(ptx, Does.Not.Contain("ld.local").And.Not.Contain("st.local"));
        string[] lines = ptx.Split('\n').Select(l => l.TrimStart()).ToArray();
        Assert.That(lines.Count(l => l.StartsWith("ld.shared.v4.f32", StringComparison.Ordinal)), Is.EqualTo(16));
        Assert.That(lines.Count(l => l.StartsWith("st.shared.f32", StringComparison.Ordinal)), Is.EqualTo(16));
    }

    [TestCase("window-product", 4)]
    [TestCase("dense-product-16", 4)]
    [TestCase("dense-product", 3)]
    [TestCase("adjoint-product", 4)]
    [TestCase("adjoint-product-8", 3)]
    public void Products_AtTheirGpuSides_StayInRegistersWithTheirBoundsAndThreadSplit(string kernel, int log2)
    {
        // The window product, the dense products and the adjoint's chunk products share phase C's depth loop (GemmLoop):
        // as launched on a GPU (16 × 16 or 8 × 8 threads), no local memory, the unrolled depth loop's 16 vector loads,
        // the column split tid.x >> log₂ side (the side's log₂ by arithmetic, GemmThread), and the launch bounds of two
        // groups per multiprocessor.
        string ptx = KernelPtx.Compile(kernel, groupsPerMultiprocessor: GemmOccupancy.DefaultGroupsPerMultiprocessor);
        Assert.That(ptx, Does.Not.Contain("ld.local").And.Not.Contain("st.local"));
        string[] lines = ptx.Split('\n').Select(l => l.TrimStart()).ToArray();
        Assert.That(lines.Count(l => l.StartsWith("ld.shared.v4.f32", StringComparison.Ordinal)), Is.EqualTo(16));
        var tid = System.Text.RegularExpressions.Regex.Match(ptx, @"mov\.b32\s+(%r\d+), %tid\.x;");
        Assert.That(tid.Success, Is.True);
        string shift = $@"shr\.s32\s+%r\d+, {System.Text.RegularExpressions.Regex.Escape(tid.Groups[1].Value)}, {log2};";
        Assert.That(System.Text.RegularExpressions.Regex.IsMatch(ptx, shift), Is.True, $"no tid.x >> {log2} in the PTX");
        Assert.That(ptx, Does.Contain(".maxntid 256, 1, 1").And.Contain(".minnctapersm 2"));
    }

    [TestCase(4, 2)]
    [TestCase(8, 3)]
    [TestCase(16, 4)]
    public void ChunkStates_SplitsTheThreadIndexBySide(int side, int log2)
    {
        // The thread's column within the group is tid.x >> log₂ side, a constant shift once the side is specialised.
        // ILGPU 1.5.3 compiled the first version's `side >= 16 ? 4 : … : side >= 2 ? 1 : 0` to 1 at every side (it
        // typed the merged arms as the last arm's comparison), which the CPU simulator, running the IL, could not see:
        // on CUDA the block's column tables were read out of range ("an illegal memory access").
        string ptx = KernelPtx.Compile("chunk-states", side: side, groupsPerMultiprocessor: 0);
        var tid = System.Text.RegularExpressions.Regex.Match(ptx, @"mov\.b32\s+(%r\d+), %tid\.x;");
        Assert.That(tid.Success, Is.True);
        string shift = $@"shr\.s32\s+%r\d+, {System.Text.RegularExpressions.Regex.Escape(tid.Groups[1].Value)}, {log2};";
        Assert.That(System.Text.RegularExpressions.Regex.IsMatch(ptx, shift), Is.True, $"no tid.x >> {log2} in the PTX");
    }

    [Test]
    public void EveryKernel_SelectsOnlyOnComputedPredicates()
    {
        // The signature of the ILGPU 1.5.3 miscompilation above: a comparison folded to a constant and then used as the
        // merged value of a chain of conditionals, `selp.b32 %r, 1, 0, 1`. No kernel selects on a literal predicate:
        // the memory, scan, cell and training kernels, the product at every side, and the spiking kernels.
        var constantSelect = new System.Text.RegularExpressions.Regex(@"selp\.\w+\s+%\w+, [^,]+, [^,]+, [01];");
        foreach (var (name, text) in AllKernelPtx())
        {
            Assert.That(constantSelect.IsMatch(text), Is.False, name);
        }
    }

    [Test]
    public void EveryKernel_CallsNoSoftwareMathRoutine()
    {
        // ILGPU compiles double Math.Exp / Math.Log (and other double transcendentals) to CORDIC routines of about 50
        // calls each (`.func NextVectorHyperbolicIteration…`); the LIF step once took them on every spike, 2,416 SASS
        // instructions against 264 with float MathF (the GPU's exp2/log2 units). No kernel calls a function.
        foreach (var (name, text) in AllKernelPtx())
        {
            Assert.That(text, Does.Not.Contain("call.uni").And.Not.Contain(".func "), name);
        }
    }

    /// <summary>The PTX of every kernel: the memory, scan, cell and training kernels, the product at every side, and the
    /// spiking kernels.</summary>
    private static IEnumerable<(string Name, string Ptx)> AllKernelPtx()
    {
        return KernelPtx.Names.Select(name => (name, KernelPtx.Compile(name)))
            .Concat(new[] { 4, 8 }.Select(side => ($"chunk-states side {side}", KernelPtx.Compile("chunk-states", side: side))))
            .Concat(new[] { typeof(TrainingKernels), typeof(ReductionKernels), typeof(SpikingLmuKernels) }
                .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static))
                .Where(m => m.ReturnType == typeof(void) && m.GetParameters().FirstOrDefault()?.ParameterType == typeof(Index1D))
                .Select(m => (m.Name, KernelPtx.Compile(m, explicitlyGrouped: false))))
            .Concat(new[] { typeof(NeuronKernels).GetMethod(nameof(NeuronKernels.PoissonRun))!, typeof(NeuronKernels).GetMethod(nameof(NeuronKernels.LifRun))!,
                    typeof(SpikingLmuKernels).GetMethod(nameof(SpikingLmuKernels.Neurons))! }
                .Select(m => (m.Name, KernelPtx.Compile(m, explicitlyGrouped: true))));
    }

    [Test]
    public void ChunkStates_CarriesTheLaunchBoundsIntoThePtx()
    {
        // GemmOccupancy's default on CUDA: 256 threads and two resident groups per multiprocessor, which caps ptxas
        // at 128 registers per thread.
        string ptx = KernelPtx.Compile("chunk-states", side: 16, groupsPerMultiprocessor: GemmOccupancy.DefaultGroupsPerMultiprocessor);
        Assert.That(ptx, Does.Contain(".maxntid 256, 1, 1").And.Contain(".minnctapersm 2"));
    }

    [TestCase("chunk-steps")]
    [TestCase("chunk-steps-single")]
    [TestCase("chunk-steps-adjoint")]
    public void ChunkSteps_DividesOnlyInItsSetup(string kernel)
    {
        // With the flags specialised and the rows in per-column tables, the only 64-bit divisions left are the three of
        // the per-launch setup (column → sequence → batch entry, and the start states' chunk); before, every output
        // element of every step divided twice (77 div/rem.64 in the PTX, 32 calls of the division routine per step in
        // ptxas's SASS).
        string ptx = KernelPtx.Compile(kernel);
        int divisions = ptx.Split('\n').Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\s*(div|rem)\.[su]64"));
        Assert.That(divisions, Is.LessThanOrEqualTo(3));
        Assert.That(ptx, Does.Not.Contain("ld.local").And.Not.Contain("st.local"));
    }

    [Test]
    public void ChunkStarts_CompilesToPtx()
    {
        string ptx = KernelPtx.Compile(typeof(ScanGemmKernels).GetMethod(nameof(ScanGemmKernels.ChunkStarts))!, explicitlyGrouped: false);
        Assert.That(ptx, Does.Contain(".target sm_80"));
    }

    [Test]
    public void TrainingKernels_ImplicitlyGrouped_CompileToPtx()
    {
        var methods = typeof(TrainingKernels).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(m => m.ReturnType == typeof(void) && m.GetParameters().FirstOrDefault()?.ParameterType == typeof(Index1D))
            .ToList();
        Assert.That(methods, Is.Not.Empty);
        foreach (var method in methods)
        {
            Assert.That(KernelPtx.Compile(method, explicitlyGrouped: false), Does.Contain(".target sm_80"), method.Name);
        }
    }

    private static string Compile(MethodInfo method) => KernelPtx.Compile(method, explicitlyGrouped: true);
}
