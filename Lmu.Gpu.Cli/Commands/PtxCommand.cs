using System.CommandLine;

namespace Lmu.Gpu.Cli.Commands;

/// <summary><c>lmu ptx</c>: writes the PTX of the library's CUDA kernels (no GPU needed), for reading or for ptxas
/// (docs/benchmarks/ptxas-check.md).</summary>
internal static class PtxCommand
{
    public static Command Create()
    {
        var kernel = new Option<string>("--kernel", "-k")
        {
            Description = $"A kernel ({string.Join(", ", KernelPtx.Names)}) or all (default).",
            DefaultValueFactory = _ => "all",
        };
        var side = new Option<int>("--side")
        {
            Description = "chunk-states: threads along each side of a group, as the launch specialises it (4, 8 or 16; default 16, a GPU's).",
            DefaultValueFactory = _ => 16,
        };
        var groups = new Option<int>("--groups-per-sm")
        {
            Description = $"chunk-states: the launch bound, resident groups per multiprocessor (0 = none; default {GemmOccupancy.DefaultGroupsPerMultiprocessor}).",
            DefaultValueFactory = _ => GemmOccupancy.DefaultGroupsPerMultiprocessor,
        };
        var output = new Option<string>("--out", "-o") { Description = "Folder for NAME.ptx files (default: the current one).", DefaultValueFactory = _ => "." };
        var command = new Command("ptx", "Writes the PTX (sm_80) that ILGPU emits for the library's CUDA kernels, without a GPU: one NAME.ptx per kernel.");
        foreach (var option in new Option[] { kernel, side, groups, output })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse => CommandRunner.Guard(() =>
        {
            string name = parse.GetValue(kernel)?.Trim().ToLowerInvariant() ?? "all";
            int groupsPerMultiprocessor = parse.GetValue(groups);
            if (groupsPerMultiprocessor is < 0 or > 8)
            {
                throw new ArgumentException("--groups-per-sm must be 0 (no bound) … 8.");
            }

            string folder = parse.GetValue(output) ?? ".";
            Directory.CreateDirectory(folder);
            foreach (string k in name == "all" ? KernelPtx.Names : [name])
            {
                string ptx = KernelPtx.Compile(k, parse.GetValue(side), groupsPerMultiprocessor);
                string path = Path.Combine(folder, k + ".ptx");
                File.WriteAllText(path, ptx);
                Console.WriteLine($"{k}: {path} ({ptx.Length:N0} characters)");
            }

            return 0;
        }));
        return command;
    }
}
