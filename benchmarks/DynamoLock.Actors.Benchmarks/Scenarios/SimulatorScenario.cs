using DynamoLock.Actors.Chaos.Simulation;

namespace DynamoLock.Actors.Benchmarks.Scenarios;

/// <summary>One mutation of the protocol and the first seed that caught it (null: not caught within the seeds tried).</summary>
internal sealed record MutationRow(string Mutation, int SeedsTried, int? CaughtBySeed, string? Rule);

/// <summary>The deterministic simulator's long run and its mutations.</summary>
internal sealed record SimulatorResult(
    int Seeds,
    long Acquisitions,
    double SimulatedHours,
    double WallSeconds,
    double AcquisitionsPerMinute,
    int Violations,
    IReadOnlyDictionary<string, long> Faults,
    IReadOnlyList<MutationRow> Mutations);

/// <summary>
/// Runs the simulator over many seeds (100,000 in a full run) with the real lock core, then each mutation until a seed
/// catches it: the simulator's throughput, its verdict, and its teeth.
/// </summary>
internal static class SimulatorScenario
{
    private const int MutationSeeds = Simulator.DefaultMutationSeeds;

    public static SimulatorResult Run(BenchmarkOptions options)
    {
        var template = new SimulationOptions();
        var summary = Simulator.RunMany(template, start: 1, seeds: options.Quick ? 2_000 : 100_000);
        var mutations = Simulator.MutationNames
            .Select(name =>
            {
                var caught = Simulator.RunMany(template with { Mutation = name }, start: 1, seeds: MutationSeeds, stopAtFirstViolation: true);
                return new MutationRow(name, caught.Seeds, caught.FailingSeeds.Count > 0 ? caught.FailingSeeds[0] : null, caught.Violations.FirstOrDefault()?.Rule);
            })
            .ToList();
        return new SimulatorResult(
            summary.Seeds,
            summary.Acquisitions,
            summary.SimulatedTime.TotalHours,
            summary.WallTime.TotalSeconds,
            summary.AcquisitionsPerMinute,
            summary.Violations.Count,
            summary.Faults,
            mutations);
    }
}
