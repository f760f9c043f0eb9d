using System.CommandLine;
using DynamoLock.Actors.Chaos.Simulation;

namespace DynamoLock.Actors.Host.Commands;

/// <summary>
/// <c>dynamolock simulate</c>: the deterministic simulator of the lock core on virtual time (no table, no network), over a
/// range of seeds; ends with <c>violations: N</c> and exits 1 when N &gt; 0. With <c>--mutation</c> every core runs a
/// deliberately broken protocol, the run stops at the first seed that catches it and exits 1 (caught).
/// </summary>
internal static class SimulateCommand
{
    public static Command Create(CommonOptions common)
    {
        var seeds = new Option<int?>("--seeds") { Description = $"How many seeds to run [default: {Simulator.DefaultSeeds}; with --mutation, up to {Simulator.DefaultMutationSeeds} until one catches it]." };
        var start = new Option<int>("--start") { Description = "The first seed.", DefaultValueFactory = _ => 1 };
        var nodes = new Option<int>("--nodes") { Description = "Simulated nodes (lock managers).", DefaultValueFactory = _ => 3 };
        var keys = new Option<int>("--keys") { Description = "Keys their clients compete for.", DefaultValueFactory = _ => 2 };
        var mutation = new Option<string?>("--mutation") { Description = "Break the protocol on purpose (see --list-mutations); the run stops at the first seed that catches it." };
        var keepGoing = new Option<bool>("--keep-going") { Description = "With --mutation: run every seed instead of stopping at the first catch." };
        var listMutations = new Option<bool>("--list-mutations") { Description = "Print the mutation names, one a line, and exit." };
        var seed = new Option<int?>("--seed") { Description = "Run this one seed (with --trace: print its history)." };
        var trace = new Option<bool>("--trace") { Description = "Print the history, faults and core log lines of the seed given with --seed." };
        var command = new Command(
            "simulate",
            "Run the lock core in a deterministic simulation (virtual time, simulated table with faults, node crashes, pauses, partitions and clock drift) and check every run's history. " +
            "Exits 1 when a violation is found (with --mutation: when the mutation is caught).")
        {
            seeds, start, nodes, keys, mutation, keepGoing, listMutations, seed, trace,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, common, "simulate", () =>
        {
            if (parse.GetValue(listMutations))
            {
                foreach (var name in Simulator.MutationNames)
                {
                    Console.WriteLine(name);
                }

                return Task.FromResult(ExitCodes.Ok);
            }

            var (nodeCount, keyCount) = (parse.GetValue(nodes), parse.GetValue(keys));
            if (nodeCount is < 1 or > 32 || keyCount is < 1 or > 64)
            {
                throw new UsageException($"--nodes must be 1..32 and --keys 1..64 (got {nodeCount} and {keyCount}).");
            }

            var mutationName = parse.GetValue(mutation);
            if (mutationName is not null)
            {
                mutationName = Simulator.MutationNames.FirstOrDefault(n => n.Equals(mutationName, StringComparison.OrdinalIgnoreCase))
                    ?? throw new UsageException($"unknown mutation '{mutationName}'; the mutations are: {string.Join(", ", Simulator.MutationNames)}.");
            }

            var template = new SimulationOptions { Nodes = nodeCount, Keys = keyCount, Mutation = mutationName };
            if (parse.GetValue(trace))
            {
                if (parse.GetValue(seed) is not { } one)
                {
                    throw new UsageException("--trace needs --seed S (the one seed whose history to print).");
                }

                var result = Simulator.Run(template with { Seed = one, Trace = true });
                foreach (var line in Simulator.Trace(result))
                {
                    Console.WriteLine(line);
                }

                return Task.FromResult(result.Violations.Count == 0 ? ExitCodes.Ok : ExitCodes.NotFound);
            }

            var (first, count) = parse.GetValue(seed) is { } single
                ? (single, 1)
                : (parse.GetValue(start), parse.GetValue(seeds) ?? (parse.GetValue(mutation) is null ? Simulator.DefaultSeeds : Simulator.DefaultMutationSeeds));
            if (count < 1)
            {
                throw new UsageException($"--seeds must be at least 1 (got {count}).");
            }

            var verbose = parse.GetValue(common.Verbose);
            var summary = Simulator.RunMany(
                template,
                first,
                count,
                stopAtFirstViolation: mutationName is not null && !parse.GetValue(keepGoing),
                each: result =>
                {
                    ct.ThrowIfCancellationRequested();
                    if (verbose && result.Violations.Count > 0)
                    {
                        Console.Error.WriteLine($"seed {result.Seed}: {result.Violations.Count} violations");
                    }
                });
            foreach (var line in Simulator.Summary(summary, mutationName))
            {
                Console.WriteLine(line);
            }

            return Task.FromResult(summary.Violations.Count == 0 ? ExitCodes.Ok : ExitCodes.NotFound);
        }, ct));
        return command;
    }
}
