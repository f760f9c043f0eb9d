using DynamoLock.Actors.Chaos.Simulation;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Simulation;

/// <summary>
/// The deterministic simulator: a seed replays the same run, a fixed set of seeds keeps every guarantee, and every
/// mutation of the protocol is caught within the default seeds (a simulator that cannot fail proves nothing).
/// </summary>
public sealed class SimulationTests(ITestOutputHelper output)
{
    /// <summary>The seeds every run of the tests checks (the CLI's default set starts at the same seed).</summary>
    private const int Seeds = 40;

    /// <summary>How many seeds a mutation may take before it counts as not caught.</summary>
    private const int MutationSeeds = 200;

    [Fact]
    public void The_same_seed_gives_the_same_history_twice()
    {
        var first = Simulator.Run(new SimulationOptions { Seed = 7 });
        var second = Simulator.Run(new SimulationOptions { Seed = 7 });

        Assert.True(first.Acquisitions > 20, $"only {first.Acquisitions} acquisitions");
        Assert.Equal(first.Events, second.Events);
        Assert.Equal(first.Faults, second.Faults);
        Assert.Equal(first.Steps, second.Steps);
    }

    [Fact]
    public void A_fixed_set_of_seeds_keeps_every_guarantee()
    {
        var summary = Simulator.RunMany(new SimulationOptions(), start: 1, seeds: Seeds);
        foreach (var line in Simulator.Summary(summary))
        {
            output.WriteLine(line);
        }

        Assert.Empty(summary.Violations);
        Assert.True(summary.Acquisitions > Seeds * 50, $"only {summary.Acquisitions} acquisitions");
    }

    public static TheoryData<string> Mutations() => [.. Simulator.MutationNames];

    [Theory]
    [MemberData(nameof(Mutations))]
    public void Every_mutation_is_caught_within_the_default_seeds(string mutation)
    {
        var summary = Simulator.RunMany(new SimulationOptions { Mutation = mutation }, start: 1, seeds: MutationSeeds, stopAtFirstViolation: true);
        foreach (var line in Simulator.Summary(summary, mutation))
        {
            output.WriteLine(line);
        }

        Assert.NotEmpty(summary.Violations);
    }
}
