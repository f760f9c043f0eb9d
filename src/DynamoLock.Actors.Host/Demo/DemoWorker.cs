using Akka.Actor;
using DynamoLock.Actors.Chaos;

namespace DynamoLock.Actors.Host.Demo;

/// <summary>
/// A demo requester: takes a random key (waiting for it), writes to the fenced resource while it holds the lock,
/// releases after a short random time, and starts over; a <see cref="LockLost"/> makes it stop work at once.
/// </summary>
internal sealed class DemoWorker : ReceiveActor, IWithTimers
{
    private readonly string _name;
    private readonly IActorRef _manager;
    private readonly IReadOnlyList<string> _keys;
    private readonly DemoBoard _board;
    private readonly FencedResource _resource;
    private LockAcquired? _held;
    private bool _stalled;

    public DemoWorker(string name, IActorRef manager, IReadOnlyList<string> keys, DemoBoard board, FencedResource resource)
    {
        _name = name;
        _manager = manager;
        _keys = keys;
        _board = board;
        _resource = resource;

        Receive<LockAcquired>(m =>
        {
            _held = m;
            _board.Acquired(m.Key, _name, m.FencingToken);
            Timers.StartPeriodicTimer("work", Work.Instance, TimeSpan.FromMilliseconds(50));
            Timers.StartSingleTimer("release", Done.Instance, TimeSpan.FromMilliseconds(Random.Shared.Next(150, 600)));
        });
        Receive<Work>(_ =>
        {
            if (_held is { } held)
            {
                _resource.Write(held.Key, held.FencingToken);
            }
        });
        Receive<Stall>(m =>
        {
            _stalled = m.On;
            if (!_stalled && _held is not null && !Timers.IsTimerActive("release"))
            {
                Timers.StartSingleTimer("release", Done.Instance, TimeSpan.FromMilliseconds(100));
            }
        });
        Receive<Done>(_ =>
        {
            if (_stalled)
            {
                // Busy with long work: it only stops when its lock is lost (or the stall ends).
                return;
            }

            Timers.CancelAll();
            if (_held is { } held)
            {
                _board.Releasing(held.Key, _name);
                _manager.Tell(new Release(held.Key));
            }
        });
        Receive<LockReleased>(m =>
        {
            // Also sent when the node releases its locks at shutdown.
            _board.Releasing(m.Key, _name);
            Next();
        });
        Receive<LockNotHeld>(_ => Next());
        Receive<LockLost>(m =>
        {
            Timers.CancelAll();
            _board.Lost(m.Key, _name, m.FencingToken, m.Reason);
            _held = null;
            Timers.StartSingleTimer("next", Again.Instance, TimeSpan.FromMilliseconds(200));
        });
        Receive<LockNotAcquired>(m =>
        {
            if (m.Kind == LockRefusalKind.ShuttingDown)
            {
                return;
            }

            _board.Log($"[grey]{Spectre.Console.Markup.Escape(_name)} did not get {Spectre.Console.Markup.Escape(m.Key)}: {Spectre.Console.Markup.Escape(m.Reason)}[/]");
            Timers.StartSingleTimer("next", Again.Instance, TimeSpan.FromMilliseconds(200));
        });
        Receive<Again>(_ => Next());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string name, IActorRef manager, IReadOnlyList<string> keys, DemoBoard board, FencedResource resource) =>
        Akka.Actor.Props.Create(() => new DemoWorker(name, manager, keys, board, resource));

    protected override void PreStart() => Next();

    private void Next()
    {
        _held = null;
        var key = _keys[Random.Shared.Next(_keys.Count)];
        _manager.Tell(new Acquire(key, AcquireOptions.Wait(TimeSpan.FromSeconds(30))));
    }

    /// <summary>Makes the worker keep its lock (long work) until the stall ends or the lock is lost.</summary>
    public sealed record Stall(bool On);

    private sealed record Work
    {
        public static readonly Work Instance = new();
    }

    private sealed record Done
    {
        public static readonly Done Instance = new();
    }

    private sealed record Again
    {
        public static readonly Again Instance = new();
    }
}
