using DynamoLock.Actors.Core;

namespace DynamoLock.Actors.Chaos.Simulation;

/// <summary>
/// A simulated process with a lock manager: one core per key created on demand, a few clients, its own clock rate, owner
/// name (new on every restart, as a real process's default owner name is) and faults.
/// </summary>
internal sealed class Node(SimulationRun run, int id, double rate) : IOwnSessions
{
    public int Id { get; } = id;

    public int Incarnation { get; private set; }

    public bool Alive { get; private set; }

    public string OwnerName { get; private set; } = string.Empty;

    /// <summary>The process name in the history: clients are <c>Process/cN</c>, so a crash ends exactly this incarnation's holdings.</summary>
    public string Process => OwnerName;

    public NodeClock Clock { get; private set; }

    public long PausedUntil { get; set; }

    public long PartitionedUntil { get; set; }

    public Dictionary<string, CoreHost> Cores { get; } = new(StringComparer.Ordinal);

    /// <summary>The node's session cores, one per lease duration in use (session mode).</summary>
    public Dictionary<TimeSpan, SessionHost> Sessions { get; } = [];

    /// <summary>Whether this incarnation acquires its locks under sessions (decided at each start, so runs mix both modes).</summary>
    public bool UsesSessions { get; private set; }

    /// <summary>
    /// Where other nodes send this incarnation's notices (its lock manager's remote address), or <see langword="null"/>
    /// for an incarnation without remoting, which never registers and is never told. A new incarnation has a new one.
    /// </summary>
    public string? NoticeAddress { get; private set; }

    public List<SimClient> Clients { get; } = [];

    public HashSet<SimRequester> Stopped { get; } = [];

    /// <summary>What this incarnation's waiters have seen of other nodes' sessions (its clock's times; new at each start, as a new lock manager's).</summary>
    public SessionWatch SessionWatch { get; private set; } = new();

    /// <summary>Keys already reported by the liveness rule, so that one stuck lock is one violation.</summary>
    public HashSet<string> Ghosted { get; } = new(StringComparer.Ordinal);

    /// <summary>One source for all the node's cores, so that no two writes of the node share a record version number.</summary>
    private SimulatedEntropy _entropy = new(string.Empty, new Random(0));

    public SimulationRun Run => run;

    public void Start()
    {
        Incarnation++;
        Alive = true;
        OwnerName = $"n{Id}.{Incarnation}";
        Clock = new NodeClock(rate, run.Ms(run.Random.Next(0, 1_000_000)));
        PausedUntil = 0;
        _entropy = new SimulatedEntropy(OwnerName, new Random(run.Random.Next()));
        SessionWatch = new SessionWatch();
        Cores.Clear();
        Sessions.Clear();
        Clients.Clear();
        Stopped.Clear();
        UsesSessions = run.Options.Sessions switch
        {
            SessionUse.Never => false,
            SessionUse.Always => true,
            _ => run.Chance(0.5),
        };
        NoticeAddress = run.Chance(0.75) ? $"sim://{OwnerName}/user/dynamolock" : null;
        for (var c = 1; c <= run.Options.ClientsPerNode; c++)
        {
            var client = new SimClient(this, $"{Process}/c{c}");
            Clients.Add(client);
            client.Start();
        }
    }

    /// <summary>In a graceful stop: every core was told to release all, and these keys have not answered yet.</summary>
    public bool ShuttingDown => _shutdown is not null;

    private HashSet<string>? _pendingRelease;
    private Action? _shutdown;

    /// <summary>Releases every lock (the manager's shutdown), then runs <paramref name="stopped"/>.</summary>
    public void ShutDown(Action stopped)
    {
        _shutdown = stopped;
        _pendingRelease = new HashSet<string>(Cores.Keys, StringComparer.Ordinal);
        foreach (var key in Cores.Keys.ToList())
        {
            run.ScheduleOn(this, run.Now, () => Input(key, new ReleaseAllInput(this), create: false));
        }

        run.ScheduleOn(this, run.Now, () => Released(null, this));
    }

    /// <summary>A core answered <see cref="ReleaseAllInput"/> (or, with <see langword="null"/>, the check that none is left).</summary>
    public void Released(string? key, object replyTo)
    {
        if (_pendingRelease is null || !ReferenceEquals(replyTo, this))
        {
            return;
        }

        if (key is not null)
        {
            _pendingRelease.Remove(key);
        }

        // A core dropped meanwhile (idle) has nothing to release.
        _pendingRelease.RemoveWhere(k => !Cores.ContainsKey(k));
        if (_pendingRelease.Count == 0 && _shutdown is { } stopped)
        {
            _shutdown = null;
            _pendingRelease = null;

            // The sessions end too; a session record is deleted only when no lock of this node may still name it.
            var anyHeld = Cores.Values.Any(h => h.Core.State is not LockState.Idle);
            foreach (var session in Sessions.Values.ToList())
            {
                // Scheduled, not stepped here: this runs inside a lock core's step, whose effects are still being read.
                run.ScheduleOn(this, run.Now, () => run.Step(this, session, new CloseSessionInput(DeleteRecord: !anyHeld)));
            }

            run.ScheduleOn(this, run.Now, stopped);
        }
    }

    public void Crash()
    {
        _shutdown = null;
        _pendingRelease = null;
        Alive = false;
        Cores.Clear();
        Sessions.Clear();
        Clients.Clear();
    }

    /// <summary>A command for <paramref name="key"/>'s core (created on demand, as the manager spawns a lock actor).</summary>
    public void Input(string key, CoreInput input, bool create = true)
    {
        if (!Cores.TryGetValue(key, out var host))
        {
            if (ShuttingDown && input is AcquireInput)
            {
                // The manager refuses new keys while it shuts down; a new core would not know it should.
                create = false;
            }

            if (!create)
            {
                return;
            }

            host = new CoreHost(new LockCore(key, new Table.LockKey(key), run.CoreOptions(OwnerName, _entropy, NoticeAddress) with { OwnSessions = this, SessionWatch = SessionWatch }));
            Cores[key] = host;
        }
        else if (host.Resting)
        {
            // A new actor takes up the resting core: answers and wake-ups addressed to the old one are dropped.
            host = new CoreHost(host.Core);
            Cores[key] = host;
            run.Resume(this, host);
        }

        run.Step(this, host, input);
    }

    /// <summary>The session slot for <paramref name="lease"/>, its session core made on first use (not started until a lock needs it).</summary>
    public SessionSlot SessionFor(TimeSpan lease)
    {
        if (!Sessions.TryGetValue(lease, out var host))
        {
            host = new SessionHost(run.NewSessionCore(lease, OwnerName, _entropy));
            Sessions[lease] = host;
        }

        return host.Core.Slot;
    }

    /// <inheritdoc />
    public bool IsLive(string sessionKey) =>
        Sessions.Values.Any(s => s.Core.Slot.Current is { IsLive: true } current && current.Key == sessionKey);

    /// <summary>A lock core needs the session for <paramref name="lease"/>: its core creates one unless it has one.</summary>
    public void StartSession(TimeSpan lease)
    {
        if (Sessions.TryGetValue(lease, out var host))
        {
            run.Step(this, host, StartSessionInput.Instance);
        }
    }

    /// <summary>
    /// The manager takes a core's offer to rest: the actor goes (its timer, watches and answers in flight with it), the
    /// manager keeps the core and watches its holder, and the next input for the key takes it up in a new actor.
    /// </summary>
    public void Rest(CoreHost host)
    {
        run.Count("core-rested");
        host.Resting = true;
        host.WakeGeneration++;
        host.Watched.Clear();
        if (host.Core.Holder is SimRequester holder && Stopped.Contains(holder))
        {
            // DeathWatch of an actor that is already dead answers at once.
            run.ScheduleOn(this, run.Now, () => Input(host.Core.Key, new RequesterStoppedInput(holder), create: false));
        }
    }

    /// <summary>A session of this node changed: a lock actor hears of it; a resting core only once its holding has ended.</summary>
    public void SessionChanged(string key)
    {
        if (Cores.TryGetValue(key, out var host) && !(host.Resting && !host.Core.DeadlinePassed(Clock.Now(run.Now))))
        {
            Input(key, SessionChangedInput.Instance, create: false);
        }
    }

    /// <summary>A requester of this node stopped: every core that watches it hears so (DeathWatch; the manager for resting cores).</summary>
    public void RequesterStopped(SimRequester who)
    {
        Stopped.Add(who);
        foreach (var host in Cores.Values.Where(h => h.Watched.Contains(who) || (h.Resting && Equals(h.Core.Holder, who))).ToList())
        {
            run.ScheduleOn(this, run.Now, () => Input(host.Core.Key, new RequesterStoppedInput(who), create: false));
        }
    }
}
