using DynamoLock.Actors.Core;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Tests.Core;

/// <summary>Drives one <see cref="SessionCore"/> step by step on a clock the test moves, as <see cref="CoreHarness"/> drives a lock core.</summary>
internal sealed class SessionHarness
{
    private readonly List<CoreEffect> _effects = [];

    public SessionHarness(InMemoryLockTable? table = null, DynamoLockSettings? settings = null, string owner = "node-a")
    {
        Settings = settings ?? Actors.LockTestKit.FastSettings(owner);
        Table = table ?? new InMemoryLockTable();
        Timing = Settings.ResolveTiming(AcquireOptions.Default);
        Slot = new SessionSlot(Timing.LeaseDuration!.Value);
        Core = new SessionCore(Slot, Timing.HeartbeatInterval!.Value, Timing.SafetyMargin, LockCoreOptions.From(Settings) with { Entropy = new CoreHarness.CountingEntropy(owner) });
    }

    public SessionCore Core { get; }

    /// <summary>The session's lease, heartbeat and margin (the settings' defaults).</summary>
    public LockTiming Timing { get; }

    public SessionSlot Slot { get; }

    public InMemoryLockTable Table { get; }

    public DynamoLockSettings Settings { get; }

    public TimeSpan Now { get; private set; }

    /// <summary>Every effect so far, oldest first.</summary>
    public List<CoreEffect> Effects { get; } = [];

    /// <summary>Table calls asked for and not answered yet.</summary>
    public List<CallTable> Pending { get; } = [];

    /// <summary>The safe time of a session write: lease minus safety margin.</summary>
    public TimeSpan SafeDuration => Timing.SafeDuration!.Value;

    public void Advance(TimeSpan by) => Now += by;

    /// <summary>Moves the clock to <paramref name="at"/> (never back).</summary>
    public void AdvanceTo(TimeSpan at) => Now = at > Now ? at : Now;

    public List<CoreEffect> Step(CoreInput input)
    {
        Core.Step(input, Now, _effects);
        var taken = _effects.ToList();
        _effects.Clear();
        Effects.AddRange(taken);
        Pending.AddRange(taken.OfType<CallTable>());
        return taken;
    }

    public List<CoreEffect> Start() => Step(StartSessionInput.Instance);

    /// <summary>Runs the oldest pending call on the table and feeds its answer.</summary>
    public List<CoreEffect> Answer() => Step(CoreHarness.Execute(Table, TakePending()));

    public CallTable TakePending()
    {
        var call = Pending[0];
        Pending.RemoveAt(0);
        return call;
    }

    /// <summary>Moves the clock to the last wake-up the core asked for and feeds it.</summary>
    public List<CoreEffect> WakeWhenAsked()
    {
        var at = Effects.OfType<WakeAt>().Last().At ?? throw new InvalidOperationException("The session core asked for no wake-up.");
        if (at > Now)
        {
            Now = at;
        }

        return Step(WakeInput.Instance);
    }

    /// <summary>The session record now.</summary>
    public LockRecord? Record => Core.Key is { } key ? Read(new LockKey(key)) : null;

    /// <summary>A record of the table now (its tasks complete at once).</summary>
    public LockRecord? Read(LockKey key) => Table.ReadAsync(key).Result;

    /// <summary>Releases a record on the table as a waiter expiring a session would.</summary>
    public ReleaseResult Release(ReleaseLockRequest request) => Table.ReleaseAsync(request).Result;
}
