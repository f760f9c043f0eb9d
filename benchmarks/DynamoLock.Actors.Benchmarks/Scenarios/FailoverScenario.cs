using DynamoLock.Actors.Benchmarks.Infrastructure;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Benchmarks.Scenarios;

/// <summary>Failover times measured for one lease duration, in seconds.</summary>
internal sealed record FailoverRow(TimeSpan Lease, double[] Seconds)
{
    public double Mean => Seconds.Average();

    public double Min => Seconds.Min();

    public double Max => Seconds.Max();
}

/// <summary>
/// Scenario 4: failover, from SIGKILL of the holder process (a real <c>dynamolock run</c>) to the grant at a waiter on
/// another node, against the lease duration. The waiter runs the default settings a user gets (refresh 1 s,
/// drift allowance 500 ms): it may take the lock once it has seen the same record version unchanged for
/// lease + drift on its own clock, and it sees that on its next refresh read.
/// </summary>
internal static class FailoverScenario
{
    public static async Task<IReadOnlyList<FailoverRow>> RunAsync(string endpoint, BenchmarkOptions options, CancellationToken cancellationToken)
    {
        using var client = LocalDynamoDb.CreateClient(endpoint);
        var table = await LocalDynamoDb.CreateTableAsync(client, "failover", cancellationToken).ConfigureAwait(false);
        await using var node = LockNode.Start("failover", table);
        var waiter = node.NewRequester();
        var rows = new List<FailoverRow>();
        foreach (var lease in options.FailoverLeases)
        {
            var seconds = new List<double>();
            for (var i = 0; i < options.FailoverSamples; i++)
            {
                var key = $"failover-{lease.TotalSeconds:0}s-{i}";
                using var holder = new HolderProcess(endpoint, table.TableName, key, lease);
                await WaitUntilHeldAsync(table, key, holder, cancellationToken).ConfigureAwait(false);
                var grant = waiter.AcquireAsync(key, cancellationToken, wait: (lease * 3) + TimeSpan.FromSeconds(30));
                await node.WaitForAsync(key, info => info.State == LockState.Waiting, cancellationToken).ConfigureAwait(false);

                // Kill at a random point of the holder's heartbeat cycle (a quarter of the lease).
                await Task.Delay(Random.Shared.Next((int)(lease.TotalMilliseconds / 4)), cancellationToken).ConfigureAwait(false);
                var killed = Timing.Now();
                holder.Kill();
                var granted = await grant.ConfigureAwait(false);
                seconds.Add(Timing.MillisecondsBetween(killed, granted.ReceivedAt) / 1000);
                await waiter.ReleaseAsync(key, cancellationToken).ConfigureAwait(false);
            }

            rows.Add(new FailoverRow(lease, seconds.ToArray()));
        }

        return rows;
    }

    private static async Task WaitUntilHeldAsync(ILockTable table, string key, HolderProcess holder, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        while (await table.ReadAsync(new LockKey(key), timeout.Token).ConfigureAwait(false) is not { IsHeld: true })
        {
            if (holder.HasExited)
            {
                throw new InvalidOperationException($"The holder process for '{key}' exited before it held the lock: {holder.Error}");
            }

            await Task.Delay(20, timeout.Token).ConfigureAwait(false);
        }
    }
}
