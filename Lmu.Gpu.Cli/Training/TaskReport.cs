using System.Diagnostics;
using System.Globalization;
using Lmu.Gpu.Training;

namespace Lmu.Gpu.Cli.Training;

/// <summary>What a task reports.</summary>
/// <param name="Task">Task name.</param>
/// <param name="History">Per-epoch results.</param>
/// <param name="MetricName">Headline metric.</param>
/// <param name="Metric">Its value (NRMSE in %, or accuracy in %).</param>
/// <param name="Baseline">The trivial baseline of the same metric.</param>
/// <param name="Summary">The final summary line.</param>
/// <param name="Details">Extra numbers (per-delay NRMSE, parameter count, throughput).</param>
public sealed record TaskReport(string Task, IReadOnlyList<EpochResult> History, string MetricName, double Metric, double Baseline, string Summary, IReadOnlyDictionary<string, double> Details);
