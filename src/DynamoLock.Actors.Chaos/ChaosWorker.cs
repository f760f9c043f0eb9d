using System.Buffers.Binary;
using Akka.Actor;

namespace DynamoLock.Actors.Chaos;

/// <summary>
/// One client's worker in a chaos run: takes a random key, writes to the fenced resource with its token, increments the
/// counter stored in the lock's data (one conditional write), holds briefly, releases, and starts over; it records every
/// step in the history and stops work the moment it hears <see cref="LockLost"/>.
/// </summary>
public sealed class ChaosWorker : ReceiveActor, IWithTimers
{
    private readonly string _name;
    private readonly IActorRef _manager;
    private readonly IReadOnlyList<string> _keys;
    private readonly History _history;
    private readonly FencedResource _resource;
    private readonly Random _random;
    private readonly AcquireOptions _options;
    private LockAcquired? _held;
    private long _counter;
    private bool _stopping;

    /// <summary>Creates the worker; use <see cref="Props"/>.</summary>
    public ChaosWorker(string name, IActorRef manager, IReadOnlyList<string> keys, History history, FencedResource resource, int seed, AcquireOptions options)
    {
        _name = name;
        _manager = manager;
        _keys = keys;
        _history = history;
        _resource = resource;
        _random = new Random(seed);
        _options = options;

        Receive<LockAcquired>(OnAcquired);
        Receive<LockDataStored>(m => IsCurrent(m.Key, m.FencingToken), m =>
        {
            _history.Record(_name, "store-acked", m.Key, m.FencingToken, _counter);
            // Mostly short holdings; some outlast the lease, so partitions catch holders mid-work and they must give up.
            var hold = _random.NextDouble() < 0.15 ? _random.Next(1000, 4000) : _random.Next(20, 150);
            Timers.StartSingleTimer("hold", Hold.Instance, TimeSpan.FromMilliseconds(hold));
        });
        Receive<LockNotHeld>(m =>
        {
            // A data write or release refused: the lock is gone (its LockLost follows or came already).
            if (_held is { } held && held.Key == m.Key)
            {
                // The worker stops believing it holds the lock now (a LockLost that may follow is then ignored).
                Timers.Cancel("hold");
                _history.Record(_name, "release", held.Key, held.FencingToken, detail: "not held: " + m.Reason);
                _held = null;
                Next();
            }
        });
        Receive<Hold>(_ =>
        {
            if (_held is { } held)
            {
                _history.Record(_name, "release", held.Key, held.FencingToken);
                _manager.Tell(new Release(held.Key));
            }
        });
        Receive<LockReleased>(m => IsCurrent(m.Key, m.FencingToken), m =>
        {
            _history.Record(_name, "released", m.Key, m.FencingToken);
            _held = null;
            Next();
        });
        Receive<LockLost>(m => IsCurrent(m.Key, m.FencingToken), m =>
        {
            Timers.Cancel("hold");
            _history.Record(_name, "lost", m.Key, m.FencingToken, detail: m.Reason.ToString());
            _held = null;
            Timers.StartSingleTimer("next", Again.Instance, TimeSpan.FromMilliseconds(50));
        });
        Receive<LockNotAcquired>(m =>
        {
            _history.Record(_name, "not-acquired", m.Key, detail: m.Reason);
            Timers.StartSingleTimer("next", Again.Instance, TimeSpan.FromMilliseconds(_random.Next(20, 200)));
        });
        Receive<Again>(_ => Next());
        Receive<StopWorking>(_ => _stopping = true);
        ReceiveAny(_ => { });
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props for a worker.</summary>
    public static Props Props(string name, IActorRef manager, IReadOnlyList<string> keys, History history, FencedResource resource, int seed, AcquireOptions options) =>
        Akka.Actor.Props.Create(() => new ChaosWorker(name, manager, keys, history, resource, seed, options));

    /// <inheritdoc />
    protected override void PreStart() => Next();

    private bool IsCurrent(string key, long token) => _held is { } held && held.Key == key && held.FencingToken == token;

    private void OnAcquired(LockAcquired m)
    {
        _held = m;
        var stored = m.Data.Length >= 8 ? BinaryPrimitives.ReadInt64BigEndian(m.Data.Span) : 0;
        _history.Record(_name, "granted", m.Key, m.FencingToken, stored);
        _history.Record(_name, _resource.Write(m.Key, m.FencingToken) ? "write-accepted" : "write-rejected", m.Key, m.FencingToken);
        _counter = stored + 1;
        var data = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(data, _counter);
        _manager.Tell(new StoreLockData(m.Key, data));
    }

    private void Next()
    {
        if (_stopping)
        {
            return;
        }

        var key = _keys[_random.Next(_keys.Count)];
        _history.Record(_name, "acquire", key);
        _manager.Tell(new Acquire(key, _options));
    }

    /// <summary>Stops taking new locks (the current holding ends normally).</summary>
    public sealed record StopWorking
    {
        /// <summary>The one instance.</summary>
        public static readonly StopWorking Instance = new();
    }

    private sealed record Hold
    {
        public static readonly Hold Instance = new();
    }

    private sealed record Again
    {
        public static readonly Again Instance = new();
    }
}
