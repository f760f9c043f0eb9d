using System.Globalization;
using DynamoLock.Actors.Benchmarks.Scenarios;
using DynamoLock.Actors.Chaos;

namespace DynamoLock.Actors.Benchmarks.Report;

/// <summary>One target of the benchmark issue, what the run measured for it, and whether it was met.</summary>
internal sealed record TargetRow(string Target, string Measured, bool Met);

/// <summary>Checks the run's figures against the published targets (reported, never asserted).</summary>
internal static class Targets
{
    private const double LatencyRatioTarget = 1.2;
    private const int HolderBytesTarget = 2048;
    private const double NoticeHandOffP50Ms = 5;
    private const double NoticeHandOffP99Ms = 20;
    private const double ReadsRatioTarget = 5;
    private const double HotKeyRatioTarget = 5;

    /// <summary>The hand-off rows measured with notices (scenario 3).</summary>
    public const string NoticeHandOffPrefix = "across nodes with notices,";

    public static IReadOnlyList<TargetRow> Evaluate(BenchmarkResults results)
    {
        var rows = new List<TargetRow>();
        RoundTrip(rows, results, "uncontended acquire (new key)", "Uncontended acquire = 1 request");
        RoundTrip(rows, results, "release", "Release = 1 request");
        if (results.RoundTrips.FirstOrDefault(r => r.Operation == RoundTripScenario.ContendedAcquire && r.Server == LocalDynamoDbServerKind.DynamoDbLocal.DisplayName()) is { } contended)
        {
            rows.Add(new TargetRow("Contended acquire = 1 request where the server returns the holder with the failed write (DynamoDB Local)", $"{contended.Total} ({contended.Breakdown})", contended.Total == 1));
        }

        if (results.RoundTrips.FirstOrDefault(r => r.Operation.StartsWith("heartbeats", StringComparison.Ordinal)) is { } heartbeats)
        {
            var periods = double.Parse(heartbeats.Target, CultureInfo.InvariantCulture);
            var perPeriod = heartbeats.Total / periods;
            rows.Add(new TargetRow("Heartbeat = 1 request per lock per period", $"{heartbeats.Total} requests in {periods:0} periods ({perPeriod:0.00} per period)", Math.Abs(heartbeats.Total - periods) <= 1));
        }

        if (results.Series("raw") is { } raw)
        {
            foreach (var name in new[] { "actor", "facade" })
            {
                if (results.Series(name) is { } s)
                {
                    var ratio = s.Summary.P50Ms / raw.Summary.P50Ms;
                    rows.Add(new TargetRow(
                        $"Acquire+release ({name} API) within {LatencyRatioTarget}x of two raw writes (p50)",
                        $"{ResultsReport.Ms(s.Summary.P50Ms)} ms against {ResultsReport.Ms(raw.Summary.P50Ms)} ms: {ratio:0.00}x (p99 {s.Summary.P99Ms / raw.Summary.P99Ms:0.00}x)",
                        ratio <= LatencyRatioTarget));
                }
            }
        }

        if (results.Series("facade") is { } facade && results.Series("peer fail-open") is { } failOpen)
        {
            rows.Add(new TargetRow(
                "Ahead of the peer (dynamodb-lock-client FailOpen, p50)",
                $"{ResultsReport.Ms(facade.Summary.P50Ms)} ms against {ResultsReport.Ms(failOpen.Summary.P50Ms)} ms ({failOpen.Summary.P50Ms / facade.Summary.P50Ms:0.00}x faster)",
                facade.Summary.P50Ms < failOpen.Summary.P50Ms));
        }

        if (results.Series("same node, in-memory") is { } sameNode)
        {
            rows.Add(new TargetRow(
                "Same-node hand-off under 1 ms on the in-memory table (p99)",
                $"p50 {ResultsReport.Ms(sameNode.Summary.P50Ms)} ms, p99 {ResultsReport.Ms(sameNode.Summary.P99Ms)} ms",
                sameNode.Summary.P99Ms < 1));
        }

        if (results.HandOff.FirstOrDefault(s => s.Name.StartsWith("across nodes,", StringComparison.Ordinal)) is { } crossNode)
        {
            // The waiter notices a release on its next read, at most one refresh period later, and then needs that read
            // and one write: the bound is the period plus two round trips (the p99 of the two-raw-writes series).
            var refresh = HandOffScenario.CrossNodeRefresh.TotalMilliseconds;
            var roundTrips = results.Series("raw")?.Summary.P99Ms ?? 0;
            rows.Add(new TargetRow(
                $"Cross-node hand-off within one refresh period ({refresh:0} ms; p99 against the period + {ResultsReport.Ms(roundTrips)} ms for the read and write after it)",
                $"p50 {ResultsReport.Ms(crossNode.Summary.P50Ms)} ms, p99 {ResultsReport.Ms(crossNode.Summary.P99Ms)} ms, max {ResultsReport.Ms(crossNode.Summary.MaxMs)} ms",
                crossNode.Summary.P99Ms <= refresh + roundTrips));
        }

        // On the server, with Akka's remoting defaults and with Akka.Remote's write batching off: one target line each.
        // A hand-off with notices is the holder's release write, one message and the waiter's acquire write: the same-node
        // row on the server (one write) says what each write costs there.
        var oneWrite = results.HandOff.FirstOrDefault(s => s.Name.StartsWith("same node,", StringComparison.Ordinal) && !s.Name.EndsWith("in-memory", StringComparison.Ordinal)) is { } write
            ? $"; one write on this server (same-node hand-off) p50 {ResultsReport.Ms(write.Summary.P50Ms)} ms"
            : "";
        foreach (var noticed in results.HandOff.Where(s => s.Name.StartsWith(NoticeHandOffPrefix, StringComparison.Ordinal) && !s.Name.EndsWith("in-memory", StringComparison.Ordinal)))
        {
            rows.Add(new TargetRow(
                $"Cross-node hand-off with notices: p50 ≤ {NoticeHandOffP50Ms:0} ms and p99 ≤ {NoticeHandOffP99Ms:0} ms ({noticed.Name}, default refresh)",
                $"p50 {ResultsReport.Ms(noticed.Summary.P50Ms)} ms, p99 {ResultsReport.Ms(noticed.Summary.P99Ms)} ms, max {ResultsReport.Ms(noticed.Summary.MaxMs)} ms ({noticed.Summary.Count} samples){oneWrite}",
                noticed.Summary.P50Ms <= NoticeHandOffP50Ms && noticed.Summary.P99Ms <= NoticeHandOffP99Ms));
        }

        if (results.Notices is { } notices)
        {
            var today = notices.Reads.FirstOrDefault(r => !r.Notices);
            var longer = notices.Reads.FirstOrDefault(r => r.Notices && r.RefreshSeconds == NoticesScenario.LongerRefresh.TotalSeconds);
            var sameRefresh = notices.Reads.FirstOrDefault(r => r.Notices && r.RefreshSeconds == today?.RefreshSeconds);
            if (today is not null && longer is not null)
            {
                var ratio = today.ReadsPerKeyPerMinute / longer.ReadsPerKeyPerMinute;
                rows.Add(new TargetRow(
                    $"Reads while waiting, with a {longer.RefreshSeconds:0} s refresh (the default with notices): at least {ReadsRatioTarget:0}x fewer reads per waiting (node, key) per minute than today's default ({today.RefreshSeconds:0.#} s, no notices)",
                    string.Create(CultureInfo.InvariantCulture, $"{longer.ReadsPerKeyPerMinute:0.0} against {today.ReadsPerKeyPerMinute:0.0} per minute: {ratio:0.0}x fewer (with notices at the default refresh: {sameRefresh?.ReadsPerKeyPerMinute ?? double.NaN:0.0})"),
                    ratio >= ReadsRatioTarget));
            }

            foreach (var without in notices.HotKey.Where(r => !r.Notices))
            {
                foreach (var with in notices.HotKey.Where(r => r.Notices && r.Workload == without.Workload))
                {
                    var ratio = with.PairsPerSecond / without.PairsPerSecond;
                    rows.Add(new TargetRow(
                        $"Hot key on {NoticesScenario.HotKeyNodes} nodes ({with.Workload}): {with.Mode} at least {HotKeyRatioTarget:0}x the acquire+release pairs per second without (at most about {NoticesScenario.HotKeyNodes}x possible: section 8)",
                        string.Create(CultureInfo.InvariantCulture, $"{with.PairsPerSecond:0.0} against {without.PairsPerSecond:0.0} pairs per second: {ratio:0.0}x"),
                        ratio >= HotKeyRatioTarget));
                }
            }
        }

        if (results.Scale.Any(r => !r.Sessions))
        {
            var largest = results.Scale.Where(r => !r.Sessions).MaxBy(r => r.Locks)!;
            var note = largest.Locks < 100_000 ? $" (largest run: {largest.Locks:N0} locks)" : "";
            rows.Add(new TargetRow(
                "Under 2 KB of memory per idle held lock at 100k locks",
                string.Create(CultureInfo.InvariantCulture, $"{largest.HolderBytesPerLock:N0} B per lock on the holder's side at {largest.Locks:N0} locks, {largest.BytesPerLock:N0} B with the in-memory table's record{note}"),
                largest.HolderBytesPerLock < HolderBytesTarget));
            rows.Add(new TargetRow(
                "Below the per-key actor's 4,359 B per idle held lock at 100k locks (before the pure core)",
                string.Create(CultureInfo.InvariantCulture, $"{largest.HolderBytesPerLock:N0} B per lock on the holder's side at {largest.Locks:N0} locks{note}"),
                largest.HolderBytesPerLock < 4_359));
        }

        if (results.Scale.Where(r => r.Sessions && r.Locks <= 100_000).MaxBy(r => r.Locks) is { } sessionRow)
        {
            var note = sessionRow.Locks < 100_000 ? $" (largest run: {sessionRow.Locks:N0} locks)" : "";
            rows.Add(new TargetRow(
                "Session mode: at most 1 KB of memory per idle held lock at 100k locks",
                string.Create(CultureInfo.InvariantCulture, $"{sessionRow.HolderBytesPerLock:N0} B per lock on the holder's side at {sessionRow.Locks:N0} locks, {sessionRow.BytesPerLock:N0} B with the in-memory table's record{note}"),
                sessionRow.HolderBytesPerLock <= 1024));
        }

        if (results.Scale.FirstOrDefault(r => r.Sessions && r.Locks >= 1_000_000) is { } million)
        {
            rows.Add(new TargetRow(
                "Session mode: 1,000,000 held locks on one node (reported)",
                string.Create(CultureInfo.InvariantCulture, $"acquired in {million.AcquireSeconds:0.0} s, {(million.Rested >= million.Locks ? "all" : million.Rested.ToString("N0", CultureInfo.InvariantCulture))} resting {million.RestSeconds:0.0} s later; {million.HolderBytesPerLock:N0} B per lock on the holder's side ({million.HolderBytesPerLock * million.Locks / (1 << 20):N0} MiB), {million.BytesPerLock * million.Locks / (1 << 20):N0} MiB with the in-memory table"),
                true));
        }

        if (results.Sessions is { } sessions)
        {
            if (sessions.Heartbeats.FirstOrDefault(r => r.Mode == "session") is { } session)
            {
                var perLock = sessions.Heartbeats.FirstOrDefault(r => r.Mode == "per-lock");
                rows.Add(new TargetRow(
                    string.Create(CultureInfo.InvariantCulture, $"Session mode: 1 heartbeat write per node per interval at {session.Locks:N0} held locks (HTTP layer, {session.Intervals} intervals)"),
                    string.Create(CultureInfo.InvariantCulture, $"{session.WritesPerInterval:N1} per interval ({session.UpdateItems} UpdateItem in {session.Intervals} intervals), locks lost: {session.LocksLost}; per-lock mode: {perLock?.WritesPerInterval ?? double.NaN:N0} per interval at {perLock?.Locks ?? 0:N0} locks"),
                    session.WritesPerInterval <= 1 && session.LocksLost == 0));
            }

            if (sessions.Takeover is { } t)
            {
                rows.Add(new TargetRow(
                    string.Create(CultureInfo.InvariantCulture, $"Session mode: takeover of the {t.Locks:N0} locks of a killed node within lease + drift + one refresh ({t.BoundSeconds:0.0} s), with one expiry write plus one write per lock"),
                    string.Create(CultureInfo.InvariantCulture, $"last grant {t.LastGrantSeconds:0.00} s after the kill (first {t.FirstGrantSeconds:0.00} s); {t.UpdateItems:N0} UpdateItem for {t.Locks:N0} locks"),
                    t.LastGrantSeconds <= t.BoundSeconds && t.UpdateItems == t.Locks + 1));
            }
        }

        if (results.Simulator is { } sim)
        {
            rows.Add(new TargetRow("Simulator: at least 1,000,000 simulated acquisitions per minute", string.Create(CultureInfo.InvariantCulture, $"{sim.AcquisitionsPerMinute:N0} per minute ({sim.Acquisitions:N0} in {sim.WallSeconds:N0} s)"), sim.AcquisitionsPerMinute >= 1_000_000));
            rows.Add(new TargetRow(string.Create(CultureInfo.InvariantCulture, $"Simulator: no violation over {sim.Seeds:N0} seeds"), $"{sim.Violations} violations", sim.Violations == 0));
            rows.Add(new TargetRow(
                "Simulator: every mutation caught",
                string.Join(", ", sim.Mutations.Select(m => m.CaughtBySeed is { } seed ? $"{m.Mutation} by seed {seed}" : $"{m.Mutation} NOT caught")),
                sim.Mutations.All(m => m.CaughtBySeed is not null)));
        }

        return rows;
    }

    private static void RoundTrip(List<TargetRow> rows, BenchmarkResults results, string operation, string target)
    {
        if (results.RoundTrips.FirstOrDefault(r => r.Operation == operation) is { } row)
        {
            rows.Add(new TargetRow(target, $"{row.Total} ({row.Breakdown})", row.Total == 1));
        }
    }
}
