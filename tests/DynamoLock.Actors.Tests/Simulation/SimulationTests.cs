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

/// <summary>The <c>dynamolock simulate</c> command as CI runs it: the built tool, its output and exit codes.</summary>
public sealed class SimulateCommandTests : IDisposable
{
    private readonly Infrastructure.DynamoLockCli _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task List_mutations_prints_one_name_a_line()
    {
        var result = await _cli.RunAsync("simulate", "--list-mutations");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(Simulator.MutationNames, result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public async Task A_caught_mutation_exits_1_and_names_the_seed_that_caught_it()
    {
        var result = await _cli.RunAsync("simulate", "--seeds", "50", "--mutation", "TakeOverAfterHalfLease");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("mutation TakeOverAfterHalfLease caught by seed ", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"violations: [1-9]\d*\s*$", result.Output);
    }

    [Fact]
    public async Task An_unknown_mutation_is_a_usage_error_that_lists_the_mutations()
    {
        var result = await _cli.RunAsync("simulate", "--mutation", "Nope");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("IgnoreDriftAllowance", result.Error, StringComparison.Ordinal);
    }
}
