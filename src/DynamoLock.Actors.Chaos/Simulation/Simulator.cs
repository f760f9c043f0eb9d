using System.Diagnostics;
using System.Globalization;
using DynamoLock.Actors.Core;

namespace DynamoLock.Actors.Chaos.Simulation;

/// <summary>What a batch of simulated runs found.</summary>
/// <param name="FirstSeed">The first seed run.</param>
/// <param name="Seeds">Seeds run.</param>
/// <param name="Acquisitions">Grants over every run.</param>
/// <param name="Faults">Faults injected over every run, by kind.</param>
/// <param name="Violations">Broken guarantees over every run (each names its seed); under a mutation, only those the unmutated core does not show on the same seed.</param>
/// <param name="FailingSeeds">The seeds with at least one violation, in order.</param>
/// <param name="WallTime">How long the batch took.</param>
/// <param name="SimulatedTime">Virtual time simulated over every run.</param>
public sealed record SimulationSummary(
    int FirstSeed,
    int Seeds,
    long Acquisitions,
    IReadOnlyDictionary<string, long> Faults,
    IReadOnlyList<Violation> Violations,
    IReadOnlyList<int> FailingSeeds,
    TimeSpan WallTime,
    TimeSpan SimulatedTime)
{
    /// <summary>Simulated acquisitions per minute of wall time.</summary>
    public double AcquisitionsPerMinute => WallTime <= TimeSpan.Zero ? 0 : Acquisitions / WallTime.TotalMinutes;
}

/// <summary>
/// The deterministic simulator: the real per-key lock core on N nodes and K keys, on virtual time, against a simulated
/// table with faults; every run is judged by <see cref="HistoryChecker"/> plus liveness and truthfulness rules.
/// </summary>
public static class Simulator
{
    /// <summary>How many seeds a run tries by default.</summary>
    public const int DefaultSeeds = 200;

    /// <summary>
    /// How many seeds a mutation run tries by default before it says the mutation was not caught. It stops at the first
    /// catch, so the budget costs only what a hard-to-catch mutation needs (LeaseFromAnswer took 332 once notices changed
    /// the runs' timing).
    /// </summary>
    public const int DefaultMutationSeeds = 2000;

    /// <summary>The mutations a run can set on every core (each must be caught).</summary>
    public static IReadOnlyList<string> MutationNames { get; } =
        Enum.GetNames<LockCoreMutation>().Where(n => n != nameof(LockCoreMutation.None)).ToList();

    /// <summary>Runs one seed.</summary>
    /// <exception cref="ArgumentException">The options are out of range or name an unknown mutation.</exception>
    public static SimulationResult Run(SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Mutation is { } mutation && !MutationNames.Contains(mutation, StringComparer.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"Unknown mutation '{mutation}'; the mutations are: {string.Join(", ", MutationNames)}.", nameof(options));
        }

        if (options.Nodes < 1 || options.Keys < 1 || options.ClientsPerNode < 1)
        {
            throw new ArgumentException($"A simulation needs at least one node, key and client per node (got {options.Nodes}, {options.Keys}, {options.ClientsPerNode}).", nameof(options));
        }

        return new SimulationRun(options).Run();
    }

    /// <summary>
    /// Runs <paramref name="seeds"/> seeds from <paramref name="start"/> with <paramref name="template"/>'s other options;
    /// stops at the first failing seed when <paramref name="stopAtFirstViolation"/> (a mutation run needs only one).
    /// Seeds run side by side on <paramref name="parallelism"/> threads (each run is single-threaded and independent), and
    /// are summed in seed order, so the summary is the same whatever the parallelism.
    /// </summary>
    public static SimulationSummary RunMany(SimulationOptions template, int start, int seeds, bool stopAtFirstViolation = false, Action<SimulationResult>? each = null, int parallelism = 0)
    {
        ArgumentNullException.ThrowIfNull(template);
        var threads = parallelism > 0 ? parallelism : Environment.ProcessorCount;
        var watch = Stopwatch.StartNew();
        var faults = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var violations = new List<Violation>();
        var failing = new List<int>();
        long acquisitions = 0;
        var run = 0;
        var stop = false;
        var batch = threads * 4;
        for (var from = 0; from < seeds && !stop; from += batch)
        {
            var results = new (SimulationResult Result, IReadOnlyList<Violation> Found)[Math.Min(batch, seeds - from)];
            Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            {
                var result = Run(template with { Seed = start + from + i });
                results[i] = (result, template.Mutation is null ? result.Violations : NewUnderMutation(result, template));
            });
            foreach (var (result, found) in results)
            {
                run++;
                each?.Invoke(result);
                acquisitions += result.Acquisitions;
                foreach (var (kind, count) in result.Faults)
                {
                    faults[kind] = faults.GetValueOrDefault(kind) + count;
                }

                if (found.Count > 0)
                {
                    violations.AddRange(found);
                    failing.Add(result.Seed);
                    if (stopAtFirstViolation)
                    {
                        stop = true;
                        break;
                    }
                }
            }
        }

        return new SimulationSummary(start, run, acquisitions, faults, violations, failing, watch.Elapsed, (template.Duration + template.QuietPeriod) * run);
    }

    /// <summary>
    /// The violations of a mutated run that the unmutated core does not show on the same seed: a mutation counts as caught
    /// only by what it broke, not by a bug the core has anyway (compared rule by rule, since the mutation changes timings).
    /// </summary>
    private static IReadOnlyList<Violation> NewUnderMutation(SimulationResult mutated, SimulationOptions template)
    {
        if (mutated.Violations.Count == 0)
        {
            return mutated.Violations;
        }

        var baseline = Run(template with { Seed = mutated.Seed, Mutation = null, Trace = false }).Violations
            .GroupBy(v => v.Rule)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return mutated.Violations
            .GroupBy(v => v.Rule)
            .SelectMany(g => g.Skip(baseline.GetValueOrDefault(g.Key)))
            .ToList();
    }

    /// <summary>The summary lines of a batch, ending with <c>violations: N</c>.</summary>
    public static IEnumerable<string> Summary(SimulationSummary summary, string? mutation = null)
    {
        ArgumentNullException.ThrowIfNull(summary);
        yield return $"seeds: {summary.Seeds} ({summary.FirstSeed}..{summary.FirstSeed + summary.Seeds - 1}){(mutation is null ? string.Empty : $", mutation {mutation}")}";
        yield return $"simulated acquisitions: {summary.Acquisitions}, simulated time: {summary.SimulatedTime.TotalHours:F1} h";
        yield return "faults: " + (summary.Faults.Count == 0 ? "none" : string.Join(", ", summary.Faults.Select(p => $"{p.Key} {p.Value}")));
        yield return $"wall time: {summary.WallTime.TotalSeconds:F1} s, acquisitions per minute: {summary.AcquisitionsPerMinute:F0}";
        if (summary.FailingSeeds.Count > 0)
        {
            yield return $"failing seeds: {string.Join(", ", summary.FailingSeeds.Take(20))}{(summary.FailingSeeds.Count > 20 ? ", ..." : string.Empty)}";
            if (mutation is not null)
            {
                var first = summary.Violations[0];
                yield return $"mutation {mutation} caught by seed {summary.FailingSeeds[0]} ({first.Rule})";
            }
        }

        if (summary.Violations.Count > 0)
        {
            yield return "violations by rule (first seed): " + string.Join(", ", summary.Violations.GroupBy(v => v.Rule).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()} ({SeedOf(g.First())})"));
        }

        // The first violation of each rule, then the rest, up to 20: one line per kind of failure is what a reader needs first.
        var firsts = summary.Violations.GroupBy(v => v.Rule).Select(g => g.First()).ToList();
        foreach (var violation in firsts.Concat(summary.Violations.Except(firsts)).Take(20))
        {
            yield return $"VIOLATION {violation.Rule}: {violation.Description}";
        }

        yield return $"violations: {summary.Violations.Count}";
    }

    /// <summary>The seed a violation names (the simulator's own rules say it; and the checker's are tagged with it).</summary>
    private static string SeedOf(Violation violation) =>
        violation.Description.LastIndexOf("(seed ", StringComparison.Ordinal) is var at and >= 0
            ? new string(violation.Description.AsSpan(at + 6).ToString().TakeWhile(char.IsDigit).ToArray())
            : "?";

    /// <summary>One run's history (with, for a run with <see cref="SimulationOptions.Trace"/>, its faults, table calls and core log lines) in time order, then its violations (for <c>--trace</c>).</summary>
    public static IEnumerable<string> Trace(SimulationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        // A traced run kept its history in its trace, in the order things happened; an untraced one has only its history.
        var lines = result.Trace.Count > 0
            ? result.Trace
            : result.Events.Select(e => new TraceLine(e.AtMs, $"{e.Client,-10} {e.Kind,-15} {e.Key}{(e.Token is { } t ? $" token {t}" : string.Empty)}{(e.Value is { } v ? $" value {v}" : string.Empty)}{(e.Detail is { } d ? $" ({d})" : string.Empty)}"));
        foreach (var line in lines)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"{line.AtMs,10:F1} ms  {line.Text}");
        }

        foreach (var violation in result.Violations)
        {
            yield return $"VIOLATION {violation.Rule}: {violation.Description}";
        }

        yield return $"seed {result.Seed}: acquisitions {result.Acquisitions}, core steps {result.Steps}, violations: {result.Violations.Count}";
    }
}
