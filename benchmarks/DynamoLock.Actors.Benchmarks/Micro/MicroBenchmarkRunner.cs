using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace DynamoLock.Actors.Benchmarks.Micro;

/// <summary>One BenchmarkDotNet result: mean and median time per operation and bytes allocated per operation.</summary>
internal sealed record MicroRow(string Method, string Description, double MeanMicroseconds, double MedianMicroseconds, double? AllocatedBytes);

/// <summary>
/// Runs the BenchmarkDotNet micro-benchmarks in process (no separate build per benchmark, so the whole suite stays
/// within the run's time budget): 3 warm-up and 10 measured iterations for a full run (ShortRun's 3 let one GC pause
/// swing the mean by 5x), a single dry iteration with <c>--quick</c>.
/// </summary>
internal static class MicroBenchmarkRunner
{
    private static readonly Dictionary<string, string> Descriptions = new(StringComparer.Ordinal)
    {
        [nameof(InMemoryLockBenchmarks.Table)] = "InMemoryLockTable acquire + release (no actors)",
        [nameof(InMemoryLockBenchmarks.Actor)] = "Acquire/Release messages through the LockManager",
        [nameof(InMemoryLockBenchmarks.Facade)] = "DynamoLockClient.AcquireAsync + LockHandle.ReleaseAsync",
    };

    public static IReadOnlyList<MicroRow> Run(BenchmarkOptions options, string artifactsDirectory)
    {
        var job = (options.Quick ? Job.Dry : Job.Default.WithWarmupCount(3).WithIterationCount(10)).WithToolchain(InProcessEmitToolchain.Instance);
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddLogger(ConsoleLogger.Default)
            .WithArtifactsPath(artifactsDirectory);
        var summary = BenchmarkRunner.Run<InMemoryLockBenchmarks>(config);
        if (summary.HasCriticalValidationErrors)
        {
            throw new InvalidOperationException($"BenchmarkDotNet refused the benchmarks: {string.Join("; ", summary.ValidationErrors.Select(e => e.Message))}");
        }

        return summary.Reports
            .Where(r => r.ResultStatistics is not null)
            .Select(r =>
            {
                var method = r.BenchmarkCase.Descriptor.WorkloadMethod.Name;
                var allocated = r.GcStats.GetBytesAllocatedPerOperation(r.BenchmarkCase);
                return new MicroRow(method, Descriptions.GetValueOrDefault(method, method), r.ResultStatistics!.Mean / 1000, r.ResultStatistics.Median / 1000, allocated);
            })
            .ToArray();
    }
}
