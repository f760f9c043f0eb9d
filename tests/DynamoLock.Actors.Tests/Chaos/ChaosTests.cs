using DynamoLock.Actors.Chaos;
using DynamoLock.Actors.Chaos.Simulation;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Chaos;

/// <summary>
/// A bounded, seeded chaos run against the real local DynamoDB: competing clients under HTTP faults (latency, 5xx,
/// throttling, dropped connections, applied-but-lost responses) and partitions; the history must show no violation.
/// </summary>
[Trait("Category", "DynamoDB")]
public sealed class ChaosTests(DynamoDbTableFixture fixture, ITestOutputHelper output) : IClassFixture<DynamoDbTableFixture>
{
    [Theory]
    [InlineData(SessionUse.Never)]
    [InlineData(SessionUse.Always)]
    public async Task Competing_clients_under_faults_and_partitions_keep_every_guarantee(SessionUse sessions)
    {
        var table = DynamoDbTableFixture.UniqueTableName(sessions == SessionUse.Never ? "chaos" : "chaos-sessions");
        var result = await ChaosRun.RunAsync(
            new ChaosRunOptions
            {
                Endpoint = fixture.Server.Endpoint,
                TableName = table,
                Clients = 4,
                Keys = 2,
                Duration = TimeSpan.FromSeconds(20),
                Seed = 42,
                PartitionEvery = TimeSpan.FromSeconds(4),

                // Two clients' clocks drift by 5 % (150 ms over the 3 s lease), inside the 200 ms drift allowance.
                ClockRates = [1.05, 0.95],
                Sessions = sessions,
            },
            output.WriteLine);

        foreach (var line in ChaosRun.Summary(result))
        {
            output.WriteLine(line);
        }

        Assert.Empty(result.Report.Violations);
        Assert.True(result.Report.Acquisitions >= 20, $"only {result.Report.Acquisitions} acquisitions");
        Assert.True(result.Report.CounterIncrements >= 10, $"only {result.Report.CounterIncrements} counter increments");
        Assert.Equal(4, result.Partitions);
        Assert.True(result.Faults.Values.Sum() > 20, "too few faults were injected");
        if (sessions == SessionUse.Never)
        {
            Assert.True(result.Faults.GetValueOrDefault(FaultKind.LoseResponse) > 0, "no applied-but-lost response was injected");
        }
        else
        {
            // Every client held its locks under a session.
            Assert.Equal(new[] { "client-1", "client-2", "client-3", "client-4" }, await SessionOwnersAsync(table));
        }
    }

    [Theory]
    [InlineData(SessionUse.Never)]
    [InlineData(SessionUse.Always)]
    public async Task Worker_processes_that_are_killed_and_paused_keep_every_guarantee(SessionUse sessions)
    {
        var table = DynamoDbTableFixture.UniqueTableName(sessions == SessionUse.Never ? "chaos-processes" : "chaos-processes-sessions");
        var result = await ProcessChaosRun.RunAsync(
            new ProcessChaosRunOptions
            {
                Endpoint = fixture.Server.Endpoint,
                WorkerCommand = ("dotnet", [Path.Combine(AppContext.BaseDirectory, "dynamolock.dll"), "chaos-worker"]),
                TableName = table,
                Processes = 3,
                Keys = 2,
                Duration = TimeSpan.FromSeconds(25),
                Seed = 7,
                FaultEvery = TimeSpan.FromSeconds(5),
                Sessions = sessions,
            },
            output.WriteLine);

        foreach (var line in ChaosRun.Summary(result))
        {
            output.WriteLine(line);
        }

        Assert.Empty(result.Report.Violations);
        Assert.True(result.Report.Acquisitions >= 10, $"only {result.Report.Acquisitions} acquisitions");
        Assert.Equal(4, result.Faults.GetValueOrDefault(FaultKind.ProcessKilled) + result.Faults.GetValueOrDefault(FaultKind.ProcessPaused));
        if (sessions != SessionUse.Never)
        {
            // Every worker process held its locks under a session: the first three were all started, whatever was killed.
            Assert.Superset(new HashSet<string> { "proc-1", "proc-2", "proc-3" }, await SessionOwnersAsync(table));
        }
    }

    [Fact]
    public void The_checker_excuses_only_overlaps_of_a_paused_holder_and_ends_a_killed_ones_holdings()
    {
        HistoryEvent E(double at, string client, string kind, long? token = null, string key = "k") => new(at, client, kind, key, token, 0);
        var paused = new[]
        {
            E(0, "p1/w1", "granted", 1),
            E(1, "p1", "paused", key: ""),
            E(10, "p2/w1", "granted", 2),
            E(14, "p1", "resumed", key: ""),
            E(15, "p1/w1", "lost", 1),
        };
        var killed = new[]
        {
            E(0, "p1/w1", "granted", 1),
            E(1, "p1", "killed", key: ""),
            E(10, "p2/w1", "granted", 2),
        };

        var killedLate = new[]
        {
            E(0, "p1", "killed", key: ""),
            E(2, "p1/w1", "granted", 1), // the signal landed a moment after the harness recorded the kill
            E(5000, "p2/w1", "granted", 2),
        };

        Assert.Empty(HistoryChecker.Check(killedLate).Violations);
        var grantHandledAfterPause = new[]
        {
            E(0, "p1", "paused", key: ""),
            E(100, "p2/w1", "granted", 2),
            E(150, "p2/w1", "release", 2),
            E(200, "p1", "resumed", key: ""),
            E(201, "p1/w1", "granted", 1), // sent before the pause, handled on resuming
            E(202, "p1/w1", "lost", 1),
        };
        var delayed = HistoryChecker.Check(grantHandledAfterPause);
        Assert.Empty(delayed.Violations);
        Assert.True(delayed.ExcusedByPause >= 1);
        var pausedReport = HistoryChecker.Check(paused);
        var killedReport = HistoryChecker.Check(killed);

        Assert.Empty(pausedReport.Violations);
        Assert.Equal(1, pausedReport.ExcusedByPause);
        Assert.Empty(killedReport.Violations);
    }

    [Fact]
    public void The_checker_finds_each_kind_of_violation()
    {
        HistoryEvent E(double at, string client, string kind, long? token = null, long? value = null, string? detail = null) => new(at, client, kind, "k", token, value, detail);
        var history = new[]
        {
            E(0, "a", "granted", 1, 0),
            E(5, "a", "store-acked", 1, 1),
            E(10, "b", "granted", 2, 0),   // a still holds (overlap) and b reads 0 though 1 was acknowledged (lost increment)
            E(12, "a", "release", 1),
            E(20, "b", "lost", 2, detail: "LeaseExpired"),
            E(15, "c", "granted", 1, 1),   // token 1 again after token 2 (fencing), and while b still believes (loss told late)
        };

        var report = HistoryChecker.Check(history);

        Assert.Contains(report.Violations, v => v.Rule == "mutual-exclusion");
        Assert.Contains(report.Violations, v => v.Rule == "lost-increment");
        Assert.Contains(report.Violations, v => v.Rule == "fencing-tokens");
        Assert.Contains(report.Violations, v => v.Rule == "loss-before-takeover");
        Assert.Equal(3, report.Acquisitions);
    }

    /// <summary>
    /// The owners named by the session records a run left in <paramref name="tableName"/> (keys
    /// <c>dynamolock/session/&lt;owner&gt;/&lt;id&gt;</c>): a node's shutdown leaves its session record to expire
    /// (docs/sessions.md, "Shutdown"), and a session expired by a waiter stays as a released record.
    /// </summary>
    private async Task<SortedSet<string>> SessionOwnersAsync(string tableName)
    {
        var table = new DynamoDbLockTable(fixture.Client, new DynamoDbLockTableOptions { TableName = tableName });
        var owners = new SortedSet<string>(StringComparer.Ordinal);
        string? token = null;
        do
        {
            var page = await table.ListAsync(new ListLocksRequest { PageSize = 500, ContinuationToken = token });
            owners.UnionWith(page.Records.Select(r => r.Key.Key).Where(LockSessions.IsSessionKey).Select(k => k[LockSessions.KeyPrefix.Length..k.LastIndexOf('/')]));
            token = page.ContinuationToken;
        }
        while (token is not null);

        return owners;
    }
}
