using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;

namespace DynamoLock.Actors.Tests.Infrastructure;

/// <summary>One holding of a lock as its holder saw it: from the grant's arrival to the moment it sent its release.</summary>
public sealed record HoldInterval(string Key, string Worker, long FencingToken, long Start, long End);

/// <summary>
/// A requester that takes a lock, holds it briefly, releases it, and repeats: the workload of the mutual-exclusion
/// scenarios. It reports <see cref="WorkerDone"/> after its rounds.
/// </summary>
public sealed class LockWorker : ReceiveActor, IWithTimers
{
    private readonly string _name;
    private readonly IActorRef _manager;
    private readonly string[] _keys;
    private readonly int _rounds;
    private readonly TimeSpan _hold;
    private readonly ConcurrentQueue<HoldInterval> _intervals;
    private readonly IActorRef _report;
    private int _round;
    private LockAcquired? _held;
    private long _start;

    public LockWorker(string name, IActorRef manager, string[] keys, int rounds, TimeSpan hold, ConcurrentQueue<HoldInterval> intervals, IActorRef report)
    {
        _name = name;
        _manager = manager;
        _keys = keys;
        _rounds = rounds;
        _hold = hold;
        _intervals = intervals;
        _report = report;

        Receive<LockAcquired>(m =>
        {
            _held = m;
            _start = Stopwatch.GetTimestamp();
            Timers.StartSingleTimer("hold", "release", _hold);
        });
        Receive<string>(s => s == "release", _ =>
        {
            _intervals.Enqueue(new HoldInterval(_held!.Key, _name, _held.FencingToken, _start, Stopwatch.GetTimestamp()));
            _manager.Tell(new Release(_held.Key));
        });
        Receive<LockReleased>(_ => Next());
        Receive<LockNotHeld>(_ => Next());
        Receive<LockLost>(m =>
        {
            // A loss is not a violation: the holding ends when the loss is reported (before anyone else can take over).
            Timers.Cancel("hold");
            if (_held is { } held && held.FencingToken == m.FencingToken)
            {
                _intervals.Enqueue(new HoldInterval(held.Key, _name, held.FencingToken, _start, Stopwatch.GetTimestamp()));
                _held = null;
            }

            _report.Tell(m);
            Next();
        });
        Receive<LockNotAcquired>(m => _report.Tell(m));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string name, IActorRef manager, string[] keys, int rounds, TimeSpan hold, ConcurrentQueue<HoldInterval> intervals, IActorRef report) =>
        Akka.Actor.Props.Create(() => new LockWorker(name, manager, keys, rounds, hold, intervals, report));

    protected override void PreStart() => Next();

    private void Next()
    {
        if (_round == _rounds)
        {
            _report.Tell(new WorkerDone(_name));
            return;
        }

        var key = _keys[_round++ % _keys.Length];
        _manager.Tell(new Acquire(key, AcquireOptions.Wait(Timeout.InfiniteTimeSpan)));
    }
}

/// <summary>A <see cref="LockWorker"/> finished its rounds.</summary>
public sealed record WorkerDone(string Name);
