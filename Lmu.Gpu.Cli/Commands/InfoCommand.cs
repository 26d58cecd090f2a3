using System.CommandLine;
using System.Globalization;

namespace Lmu.Gpu.Cli.Commands;

/// <summary><c>lmu info</c>: lists every device found and which one auto picks.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Lists every compute device found (type, name, memory, warp size, max group size) and which one auto picks.");
        command.SetAction(_ => CommandRunner.Guard(() =>
        {
            var devices = LmuDevice.ListDevices();
            var auto = devices.Any(d => d.Kind == AcceleratorKind.Cuda) ? AcceleratorKind.Cuda
                : devices.Any(d => d.Kind == AcceleratorKind.OpenCL) ? AcceleratorKind.OpenCL : AcceleratorKind.Cpu;
            Console.WriteLine($"{"accelerator",-11} {"memory",10} {"warp",5} {"group",6} {"SMs",5}  name");
            foreach (var d in devices)
            {
                string memory = (d.MemoryBytes / (1024.0 * 1024 * 1024)).ToString("F1", CultureInfo.InvariantCulture) + " GiB";
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{d.Selection,-11} {memory,10} {d.WarpSize,5} {d.MaxGroupSize,6} {d.Multiprocessors,5}  {d.Name}"));
            }

            var first = devices.First(d => d.Kind == auto);
            Console.WriteLine($"auto picks: {first.Selection} ({first.Name}); --accelerator NAME opens another (cuda:1 is the second CUDA device)");
            string? env = Environment.GetEnvironmentVariable(AcceleratorKindParser.EnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(env))
            {
                Console.WriteLine($"{AcceleratorKindParser.EnvironmentVariable}={env} (used when --accelerator is not given)");
            }

            string? threads = Environment.GetEnvironmentVariable(HostThreads.EnvironmentVariable);
            Console.WriteLine(string.IsNullOrWhiteSpace(threads)
                ? $"host threads: {HostThreads.Limit} (all cores; {HostThreads.EnvironmentVariable}=N caps them)"
                : $"host threads: {HostThreads.Limit} ({HostThreads.EnvironmentVariable}={threads.Trim()})");
            return 0;
        }));
        return command;
    }
}
