namespace DynamoLock.Actors.Chaos.Simulation;

/// <summary>What one simulated run did and found.</summary>
/// <param name="Seed">The run's seed.</param>
/// <param name="Events">The history, on virtual time (milliseconds since the run started).</param>
/// <param name="Report">The history checker's report (safety).</param>
/// <param name="Violations">Every broken guarantee: the checker's, plus the simulator's own liveness and truthfulness rules.</param>
/// <param name="Faults">Faults injected, by kind.</param>
/// <param name="Trace">The history, faults, table calls and core log lines in the order they happened, when asked for.</param>
/// <param name="Steps">Core steps taken.</param>
public sealed record SimulationResult(
    int Seed,
    IReadOnlyList<HistoryEvent> Events,
    HistoryReport Report,
    IReadOnlyList<Violation> Violations,
    IReadOnlyDictionary<string, int> Faults,
    IReadOnlyList<TraceLine> Trace,
    long Steps)
{
    /// <summary>Grants recorded by clients.</summary>
    public int Acquisitions => Report.Acquisitions;
}

/// <summary>A fault, table call or core log line of a traced run.</summary>
/// <param name="AtMs">When, in virtual milliseconds since the run started.</param>
/// <param name="Text">What happened.</param>
public sealed record TraceLine(double AtMs, string Text);
