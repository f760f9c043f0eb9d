namespace DynamoLock.Actors.Chaos;

/// <summary>A broken guarantee found in a history.</summary>
/// <param name="Rule">Which: fencing-tokens, mutual-exclusion, loss-before-takeover, lost-increment.</param>
/// <param name="Description">What happened, with the clients, keys, tokens and times.</param>
public sealed record Violation(string Rule, string Description);

/// <summary>Counts and violations of one history.</summary>
/// <param name="Acquisitions">Grants.</param>
/// <param name="Releases">Confirmed releases.</param>
/// <param name="LossesByReason">Losses reported to holders, by reason.</param>
/// <param name="TakeoversAfterLoss">Grants that followed a holding ended by a loss.</param>
/// <param name="FencedWritesRejected">Writes the fenced resource refused (stale tokens).</param>
/// <param name="CounterIncrements">Acknowledged counter increments.</param>
/// <param name="Violations">Broken guarantees.</param>
/// <param name="ExcusedByPause">Findings explained by a paused process (SIGSTOP): an overlap whose earlier holder was paused, or a grant it handled (and recorded) only on resuming; the documented case that fencing tokens cover.</param>
public sealed record HistoryReport(int Acquisitions, int Releases, IReadOnlyDictionary<string, int> LossesByReason, int TakeoversAfterLoss, int FencedWritesRejected, int CounterIncrements, IReadOnlyList<Violation> Violations, int ExcusedByPause = 0);

/// <summary>
/// Checks a run's history: (a) fencing tokens strictly increase per key across grants; (b) no two clients hold a key at
/// once (a holding lasts from its grant's arrival to its release being sent or its loss being reported); (c) a holder
/// that lost its lock was told before the next holder's grant; (d) no acknowledged counter increment is lost.
/// All clients of a run share one process and one monotonic clock, so the times compare.
/// </summary>
public static class HistoryChecker
{
    /// <summary>Checks <paramref name="events"/>.</summary>
    public static HistoryReport Check(IReadOnlyList<HistoryEvent> events)
    {
        var violations = new List<Violation>();
        var ordered = events.OrderBy(e => e.AtMs).ToList();
        var grants = ordered.Where(e => e.Kind == "granted").ToList();
        var losses = ordered.Where(e => e.Kind == "lost").ToList();

        // Process faults (separate worker processes): pauses excuse an overlap, a kill ends the process's holdings.
        var pauses = new Dictionary<string, List<(double From, double To)>>(StringComparer.Ordinal);
        var kills = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var e in ordered)
        {
            switch (e.Kind)
            {
                case "paused":
                    (pauses.TryGetValue(e.Client, out var list) ? list : pauses[e.Client] = []).Add((e.AtMs, double.MaxValue));
                    break;
                case "resumed" when pauses.TryGetValue(e.Client, out var open) && open.Count > 0:
                    open[^1] = (open[^1].From, e.AtMs);
                    break;
                case "killed":
                    kills[e.Client] = e.AtMs;
                    break;
            }
        }

        // A killed process acted until it died: its end is its kill or its last recorded event, whichever is later
        // (the signal lands a moment after the harness decides to send it).
        foreach (var e in ordered)
        {
            if (kills.TryGetValue(Process(e.Client), out var killedAt) && e.AtMs > killedAt && e.Client.Contains('/', StringComparison.Ordinal))
            {
                kills[Process(e.Client)] = e.AtMs;
            }
        }

        bool PausedDuring(string client, double from, double to) =>
            pauses.TryGetValue(Process(client), out var windows) && windows.Any(w => w.From < to && w.To > from);

        var excused = 0;
        foreach (var byKey in grants.GroupBy(g => g.Key))
        {
            var list = byKey.ToList();
            for (var i = 1; i < list.Count; i++)
            {
                if (list[i].Token <= list[i - 1].Token && PausedDuring(list[i].Client, list[i - 1].AtMs, list[i].AtMs))
                {
                    // A paused process handles (and records) a grant it was sent before its pause only when it resumes.
                    excused++;
                }
                else if (list[i].Token <= list[i - 1].Token)
                {
                    violations.Add(new Violation("fencing-tokens", $"{byKey.Key}: {list[i].Client} was granted token {list[i].Token} at {list[i].AtMs:F1} ms after {list[i - 1].Client} got token {list[i - 1].Token} at {list[i - 1].AtMs:F1} ms."));
                }
            }
        }

        var takeoversAfterLoss = 0;
        foreach (var byKey in Holdings(ordered, kills).GroupBy(h => h.Key))
        {
            var holdings = byKey.OrderBy(h => h.Start).ToList();
            for (var i = 1; i < holdings.Count; i++)
            {
                var (previous, next) = (holdings[i - 1], holdings[i]);
                if (previous.EndedBy == "lost")
                {
                    takeoversAfterLoss++;
                }

                // Excused: the earlier holder was paused while the next held, or the next one's grant (sent before its
                // pause) was handled only after it resumed.
                if (previous.End > next.Start && (PausedDuring(previous.Client, next.Start, previous.End) || PausedDuring(next.Client, previous.Start, next.Start)))
                {
                    excused++;
                }
                else if (previous.End > next.Start)
                {
                    var rule = previous.EndedBy == "lost" ? "loss-before-takeover" : "mutual-exclusion";
                    violations.Add(new Violation(rule, $"{byKey.Key}: {previous.Client} (token {previous.Token}) held it until {previous.End:F1} ms ({previous.EndedBy}), but {next.Client} (token {next.Token}) was granted it at {next.Start:F1} ms."));
                }
            }
        }

        // (d) A grant must see at least the highest counter value acknowledged before it.
        foreach (var byKey in ordered.Where(e => e.Kind is "granted" or "store-acked").GroupBy(e => e.Key))
        {
            long highestAcked = 0;
            double highestAckedAt = 0;
            foreach (var e in byKey)
            {
                if (e.Kind == "store-acked" && (e.Value ?? 0) > highestAcked)
                {
                    highestAcked = e.Value ?? 0;
                    highestAckedAt = e.AtMs;
                }
                else if (e.Kind == "granted" && (e.Value ?? 0) < highestAcked && PausedDuring(e.Client, highestAckedAt, e.AtMs))
                {
                    excused++; // a grant from before a pause, recorded after it
                }
                else if (e.Kind == "granted" && (e.Value ?? 0) < highestAcked)
                {
                    violations.Add(new Violation("lost-increment", $"{byKey.Key}: {e.Client} (token {e.Token}) read counter {e.Value} at {e.AtMs:F1} ms, but {highestAcked} had been acknowledged."));
                }
            }
        }

        return new HistoryReport(
            grants.Count,
            ordered.Count(e => e.Kind == "released"),
            losses.GroupBy(l => l.Detail ?? "?").ToDictionary(g => g.Key, g => g.Count()),
            takeoversAfterLoss,
            ordered.Count(e => e.Kind == "write-rejected"),
            ordered.Count(e => e.Kind == "store-acked"),
            violations,
            excused);
    }

    /// <summary>The process a client (<c>process/worker</c>) belongs to.</summary>
    private static string Process(string client) => client.Split('/')[0];

    private static IEnumerable<Holding> Holdings(List<HistoryEvent> ordered, Dictionary<string, double> kills)
    {
        var open = new Dictionary<(string Client, string Key, long? Token), HistoryEvent>();
        foreach (var e in ordered)
        {
            switch (e.Kind)
            {
                case "granted":
                    open[(e.Client, e.Key, e.Token)] = e;
                    break;
                case "release" or "lost" when open.Remove((e.Client, e.Key, e.Token), out var grant):
                    yield return new Holding(e.Key, e.Client, e.Token, grant.AtMs, e.AtMs, e.Kind);
                    break;
            }
        }

        // Still held at the end of the run (its shutdown released or revoked it after the last event), or by a killed process.
        foreach (var ((client, key, token), grant) in open)
        {
            yield return kills.TryGetValue(Process(client), out var killedAt) && killedAt >= grant.AtMs
                ? new Holding(key, client, token, grant.AtMs, killedAt, "killed")
                : new Holding(key, client, token, grant.AtMs, double.MaxValue, "end of run");
        }
    }

    private sealed record Holding(string Key, string Client, long? Token, double Start, double End, string EndedBy);
}
