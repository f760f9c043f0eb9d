using BenchmarkDotNet.Attributes;
using DynamoLock.Actors.Benchmarks.Infrastructure;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Benchmarks.Micro;

/// <summary>
/// What the library itself costs per acquire+release when the table answers at once (the in-memory table): the table
/// alone, then through the actors, then through the async facade. Run in process by <see cref="MicroBenchmarkRunner"/>.
/// </summary>
[MemoryDiagnoser]
public class InMemoryLockBenchmarks
{
    private readonly LockKey _tableKey = new("table");
    private InMemoryLockTable _table = null!;
    private LockNode _node = null!;
    private Requester _requester = null!;

    [GlobalSetup]
    public void Setup()
    {
        _table = new InMemoryLockTable();
        _node = LockNode.Start("micro", new InMemoryLockTable());
        _requester = _node.NewRequester();
    }

    [GlobalCleanup]
    public void Cleanup() => _node.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>InMemoryLockTable.TryAcquireAsync + ReleaseAsync: the floor under the actor layer.</summary>
    [Benchmark(Baseline = true)]
    public async Task Table()
    {
        var granted = (AcquireResult.Granted)await _table.TryAcquireAsync(new AcquireLockRequest(_tableKey, "micro", TimeSpan.FromSeconds(20))).ConfigureAwait(false);
        await _table.ReleaseAsync(new ReleaseLockRequest(_tableKey, "micro", granted.Record.RecordVersionNumber)).ConfigureAwait(false);
    }

    /// <summary>Acquire and Release messages from an actor to the LockManager, replies awaited.</summary>
    [Benchmark]
    public async Task Actor()
    {
        await _requester.AcquireAsync("actor", CancellationToken.None).ConfigureAwait(false);
        await _requester.ReleaseAsync("actor", CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>DynamoLockClient.AcquireAsync and LockHandle.ReleaseAsync.</summary>
    [Benchmark]
    public async Task Facade()
    {
        var handle = await _node.Client.AcquireAsync("facade", TimeSpan.Zero).ConfigureAwait(false);
        await handle.ReleaseAsync().ConfigureAwait(false);
    }
}
