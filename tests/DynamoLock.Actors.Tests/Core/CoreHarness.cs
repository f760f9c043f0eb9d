using DynamoLock.Actors.Core;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Tests.Core;

/// <summary>
/// Drives one <see cref="LockCore"/> step by step on a clock the test moves, against an in-memory table whose calls the
/// test answers when it chooses (so a test can hold an answer back, lose it, or deliver it late).
/// </summary>
internal sealed class CoreHarness
{
    private readonly List<CoreEffect> _effects = [];

    public CoreHarness(InMemoryLockTable? table = null, DynamoLockSettings? settings = null, string owner = "node-a", IOwnSessions? ownSessions = null, SessionWatch? watch = null, string key = Key, string? noticeAddress = null, Func<LockCoreOptions, LockCoreOptions>? adjust = null)
    {
        Settings = settings ?? Actors.LockTestKit.FastSettings(owner);
        Table = table ?? new InMemoryLockTable();
        var entropy = new CountingEntropy(key == Key ? owner + "-core" : $"{owner}-{key}");
        var options = LockCoreOptions.From(Settings) with { Entropy = entropy, OwnSessions = ownSessions, SessionWatch = watch, NoticeAddress = noticeAddress };
        Core = new LockCore(key, new LockKey(key), adjust is null ? options : adjust(options));
        Core.Start(Now, _effects);
        Take();
    }

    public const string Key = "core/key";

    public LockCore Core { get; }

    public InMemoryLockTable Table { get; }

    public DynamoLockSettings Settings { get; }

    public TimeSpan Now { get; private set; }

    /// <summary>Every effect so far, oldest first.</summary>
    public List<CoreEffect> Effects { get; } = [];

    /// <summary>Table calls asked for and not answered yet.</summary>
    public List<CallTable> Pending { get; } = [];

    public void Advance(TimeSpan by) => Now += by;

    /// <summary>Feeds an input and returns the effects of that step.</summary>
    public List<CoreEffect> Step(CoreInput input)
    {
        Core.Step(input, Now, _effects);
        return Take();
    }

    public List<CoreEffect> Acquire(object requester, AcquireOptions? options = null, SessionSlot? session = null)
    {
        var resolved = options ?? AcquireOptions.Default;
        return Step(new AcquireInput(requester, resolved, Settings.ResolveTiming(resolved), session));
    }

    /// <summary>Moves the clock to <paramref name="at"/> (never back).</summary>
    public void AdvanceTo(TimeSpan at) => Now = at > Now ? at : Now;

    /// <summary>Runs the oldest pending call on the table and feeds its answer; returns that step's effects.</summary>
    public List<CoreEffect> Answer() => Step(Execute(TakePending()));

    /// <summary>Removes and returns the oldest pending call (to answer it later, or never).</summary>
    public CallTable TakePending()
    {
        var call = Pending[0];
        Pending.RemoveAt(0);
        return call;
    }

    /// <summary>Runs <paramref name="call"/> on the table and returns the answer as the core's input (not fed).</summary>
    public CoreInput Execute(CallTable call) => Execute(Table, call);

    /// <summary>Runs <paramref name="call"/> on <paramref name="table"/> (whose tasks complete at once) and returns the answer as a core's input.</summary>
    public static CoreInput Execute(InMemoryLockTable table, CallTable call) => call.Call switch
    {
        AcquireCall { TakeOverVersion: null } m => new AcquireAnswered(call.Op, table.TryAcquireAsync(m.Request).Result),
        AcquireCall m => new AcquireAnswered(call.Op, table.TakeOverAsync(m.Request, m.TakeOverVersion!).Result),
        HeartbeatCall m => new HeartbeatAnswered(call.Op, table.HeartbeatAsync(m.Request).Result),
        ReleaseCall m => new ReleaseAnswered(call.Op, table.ReleaseAsync(m.Request).Result),
        ReadCall m => new ReadAnswered(call.Op, table.ReadAsync(m.Key).Result),

        // Nobody waits for a registration's answer (an input no core takes: its op is NoAnswer), unless it found the lock
        // free: then the interpreter tells the core as a notice would.
        AddWaiterCall m => table.AddWaiterAsync(m.Key, m.Waiter).Result == WaiterRegistration.LockFree
            ? LockFreedInput.Instance
            : new ReadAnswered(call.Op, table.ReadAsync(m.Key).Result),
        _ => throw new InvalidOperationException(call.ToString()),
    };

    /// <summary>Moves the clock to the wake-up the core asked for last and feeds it.</summary>
    public List<CoreEffect> WakeWhenAsked()
    {
        var at = Effects.OfType<WakeAt>().Last().At ?? throw new InvalidOperationException("The core asked for no wake-up.");
        if (at > Now)
        {
            Now = at;
        }

        return Step(WakeInput.Instance);
    }

    public static IEnumerable<object> SentTo(IEnumerable<CoreEffect> effects, object requester) =>
        effects.OfType<SendTo>().Where(s => s.To.Equals(requester)).Select(s => s.Message);

    private List<CoreEffect> Take()
    {
        var taken = _effects.ToList();
        _effects.Clear();
        Effects.AddRange(taken);
        Pending.AddRange(taken.OfType<CallTable>());
        return taken;
    }

    /// <summary>Readable, predictable version numbers: owner-1, owner-2, …</summary>
    internal sealed class CountingEntropy(string owner) : ILockCoreEntropy
    {
        private int _next;

        public string NextRecordVersionNumber() => $"{owner}-{++_next}";

        public double NextDouble() => 0.5;
    }
}
