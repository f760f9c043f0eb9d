using Akka.Actor;
using Akka.Configuration;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Benchmarks.Infrastructure;

/// <summary>One actor system with a <see cref="LockManager"/> on a lock table: a node, as an application would run it.</summary>
internal sealed class LockNode : IAsyncDisposable
{
    private static readonly Config Quiet = ConfigurationFactory.ParseString("""
        akka.loglevel = WARNING
        akka.stdout-loglevel = WARNING
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        """);

    // Remoting on loopback with a free port: what a LockManager needs to send and receive notices (docs/notices.md).
    private static readonly Config Remoting = ConfigurationFactory.ParseString("""
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        akka.remote.log-remote-lifecycle-events = off
        """);

    // Akka.Remote's DotNetty transport batches writes by default (up to 30 before a flush); its reference.conf says to turn
    // that off for a very low-traffic system that needs delivery in under 40 ms, which a lone notice is. The rows "remote
    // batching off" show what a notice costs without that wait.
    private static readonly Config NoBatching = ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.batching.enabled = false");

    private int _requesters;

    private LockNode(ActorSystem system, IActorRef manager)
    {
        System = system;
        Manager = manager;
        Client = new DynamoLockClient(system, manager);
    }

    public ActorSystem System { get; }

    public IActorRef Manager { get; }

    public DynamoLockClient Client { get; }

    /// <param name="remoting">Start the actor system with remoting on loopback, so that its LockManager sends and receives notices.</param>
    /// <param name="remoteBatching">With remoting: leave Akka.Remote's write batching on (its default).</param>
    public static LockNode Start(string name, ILockTable table, DynamoLockSettings? settings = null, bool remoting = false, bool remoteBatching = true)
    {
        var config = !remoting ? Quiet : remoteBatching ? Quiet.WithFallback(Remoting) : Quiet.WithFallback(NoBatching).WithFallback(Remoting);
        var system = ActorSystem.Create(name, config);
        var manager = system.ActorOf(LockManager.Props(table, (settings ?? new DynamoLockSettings()) with { OwnerName = $"{name}-{Environment.ProcessId}" }), "locks");
        return new LockNode(system, manager);
    }

    public Requester NewRequester() => new(System, Manager, $"requester-{Interlocked.Increment(ref _requesters)}");

    /// <summary>This node's view of one lock, or null when no lock actor runs for it.</summary>
    public async Task<LockInfo?> StatusAsync(string key, CancellationToken cancellationToken) =>
        (await Client.GetStatusAsync(key, cancellationToken).ConfigureAwait(false)).Locks.SingleOrDefault();

    /// <summary>Polls this node's status of <paramref name="key"/> until <paramref name="condition"/> holds.</summary>
    public async Task WaitForAsync(string key, Func<LockInfo, bool> condition, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        while (await StatusAsync(key, timeout.Token).ConfigureAwait(false) is not { } info || !condition(info))
        {
            await Task.Delay(1, timeout.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Runs coordinated shutdown: held locks are released, then the system terminates.</summary>
    public async ValueTask DisposeAsync() =>
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
}
