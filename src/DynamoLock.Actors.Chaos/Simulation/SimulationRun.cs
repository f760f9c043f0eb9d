using System.Buffers.Binary;
using DynamoLock.Actors.Core;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Chaos.Simulation;

/// <summary>
/// One deterministic run: nodes running the real <see cref="LockCore"/> per key, clients, a simulated table with faults,
/// and virtual time driven by one event queue. Everything random comes from one <see cref="Random"/> seeded with the
/// run's seed and drawn in event order, so a seed replays the same run. No threads, no tasks, no wall clock.
/// </summary>
internal sealed class SimulationRun
{
    internal const long TicksPerMs = TimeSpan.TicksPerMillisecond;

    private readonly SimulationOptions _options;
    private readonly Random _random;
    private readonly PriorityQueue<Scheduled, (long At, long Seq)> _queue = new();
    private readonly List<CoreEffect> _effects = [];
    private readonly History _history;
    private readonly FencedResource _resource = new();
    private readonly List<Violation> _violations = [];
    private readonly Dictionary<string, int> _faults = new(StringComparer.Ordinal);
    private readonly List<TraceLine> _trace = [];
    private readonly Dictionary<string, (long At, double Rate, Node Node)> _revokedAt = new(StringComparer.Ordinal);
    private readonly SimulatedTable _table;
    private readonly List<Node> _nodes = [];
    private readonly List<string> _keys;
    private readonly DynamoLockSettings _settings;
    private readonly LockCoreMutation _mutation;
    private readonly long _quietAt;
    private readonly long _endAt;
    private long _seq;
    private long _steps;

    public SimulationRun(SimulationOptions options)
    {
        _options = options;
        _random = new Random(options.Seed);
        _history = new History(() => Now / (double)TicksPerMs);
        _table = new SimulatedTable(this);
        _keys = Enumerable.Range(1, options.Keys).Select(i => $"k{i}").ToList();
        _mutation = options.Mutation is null ? LockCoreMutation.None : Enum.Parse<LockCoreMutation>(options.Mutation, ignoreCase: true);
        _settings = new DynamoLockSettings
        {
            OwnerName = "simulation",
            LeaseDuration = options.LeaseDuration,
            HeartbeatInterval = options.HeartbeatInterval,
            RefreshInterval = options.RefreshInterval,
            NoticeRefreshInterval = options.NoticeRefreshInterval,
            SafetyMargin = options.SafetyMargin,
            DriftAllowance = options.DriftAllowance,
            MaxLocalHandOffs = options.MaxLocalHandOffs,
            IdleTimeout = TimeSpan.FromSeconds(5),
        }.Validate();
        _quietAt = options.Duration.Ticks;
        _endAt = _quietAt + options.QuietPeriod.Ticks;
    }

    /// <summary>Virtual time now, in ticks since the run started.</summary>
    internal long Now { get; private set; }

    /// <summary>Whether trace lines are kept (building them costs more than the rest of a step).</summary>
    internal bool Tracing => _options.Trace;

    internal bool FaultsOn => _options.Faults && Now < _quietAt;

    internal bool Quiet => Now >= _quietAt;

    internal Random Random => _random;

    public SimulationResult Run()
    {
        for (var n = 1; n <= _options.Nodes; n++)
        {
            // Rates: the extremes often (where drift bites), otherwise anywhere between; always within the safety condition.
            var max = _options.MaxClockRate;
            var rate = _random.Next(3) switch
            {
                0 => 1 / max,
                1 => max,
                _ => Math.Exp((_random.NextDouble() * 2 - 1) * Math.Log(max)),
            };
            var node = new Node(this, n, rate);
            _nodes.Add(node);
            node.Start();
        }

        if (_options.Faults)
        {
            ScheduleNodeFaults();
        }

        ScheduleGlobal(_quietAt, BeginQuiet);
        while (_queue.TryDequeue(out var next, out var key) && key.At <= _endAt)
        {
            Now = key.At;
            if (next.Node is { } node)
            {
                if (!node.Alive || node.Incarnation != next.Incarnation)
                {
                    continue; // sent to a process that has since crashed
                }

                if (node.PausedUntil > Now)
                {
                    // A paused process handles nothing: every timer and message of it waits for the pause to end, in order.
                    Enqueue(node.PausedUntil, next);
                    continue;
                }
            }

            next.Run();
        }

        Now = _endAt;
        CheckAtEnd();
        var events = _history.Events;
        var report = HistoryChecker.Check(events);
        // Every violation names its seed, so that a batch's summary says which run to replay with --trace.
        var violations = report.Violations.Select(v => v with { Description = $"{v.Description} (seed {_options.Seed})" }).Concat(_violations).ToList();
        return new SimulationResult(_options.Seed, events, report, violations, new Dictionary<string, int>(_faults), _trace, _steps);
    }

    internal void Count(string fault)
    {
        _faults[fault] = _faults.GetValueOrDefault(fault) + 1;
        if (_options.Trace)
        {
            _trace.Add(new TraceLine(Now / (double)TicksPerMs, $"fault {fault}"));
        }
    }

    internal void Note(string text)
    {
        if (_options.Trace)
        {
            _trace.Add(new TraceLine(Now / (double)TicksPerMs, text));
        }
    }

    internal void Violate(string rule, string description) => _violations.Add(new Violation(rule, $"{description} (seed {_options.Seed}, at {Now / (double)TicksPerMs:F1} ms)"));

    internal void Record(string client, string kind, string key, long? token = null, long? value = null, string? detail = null)
    {
        _history.Record(client, kind, key, token, value, detail);
        if (Tracing)
        {
            // The trace interleaves the history with the table calls and log lines in the order they happened.
            Note($"{client,-10} {kind,-15} {key}{(token is { } t ? $" token {t}" : string.Empty)}{(value is { } v ? $" value {v}" : string.Empty)}{(detail is { } d ? $" ({d})" : string.Empty)}");
        }
    }

    internal bool FencedWrite(string key, long token) => _resource.Write(key, token);

    /// <summary>
    /// The revocation rule: a holder released by another's fencing token hears LockLost at once but may still be working,
    /// so the revoking node writes nothing that frees the lock (a release, or a hand-off to a local waiter) until the
    /// safety margin has passed on its clock. A loss at the holder's own safe deadline comes first when it is earlier; a
    /// takeover after that is the protocol's ordinary one.
    /// </summary>
    private void CheckFreeingWriteAfterRevocation(Node node, string key, TableCall call)
    {
        if (call is not (ReleaseCall or HeartbeatCall { Request.IssueNewFencingToken: true })
            || !_revokedAt.TryGetValue(key, out var revoked) || revoked.Node != node)
        {
            return;
        }

        _revokedAt.Remove(key);
        // The node's clock turns whole ticks of virtual time into its own: a microsecond either way is rounding, not a break.
        if (Now - revoked.At < (long)(_options.SafetyMargin.Ticks / revoked.Rate) - (TicksPerMs / 1000))
        {
            Violate("revocation-margin", $"{key}: {node.OwnerName} wrote {(call is ReleaseCall ? "a release" : "a hand-off")} {(Now - revoked.At) / (double)TicksPerMs:F1} ms after its holder was revoked, within the safety margin of {_options.SafetyMargin.TotalMilliseconds} ms");
        }
    }

    /// <summary>Runs <paramref name="action"/> at <paramref name="at"/> regardless of any node (the table, the fault plan).</summary>
    internal void ScheduleGlobal(long at, Action action) => Enqueue(at, new Scheduled(null, 0, action));

    /// <summary>Runs <paramref name="action"/> at <paramref name="at"/> on <paramref name="node"/>'s current incarnation: late if it is paused, never if it crashed.</summary>
    internal void ScheduleOn(Node node, long at, Action action) => Enqueue(at, new Scheduled(node, node.Incarnation, action));

    private void Enqueue(long at, Scheduled scheduled) => _queue.Enqueue(scheduled, (Math.Max(at, Now), _seq++));

    internal long Ms(double ms) => (long)(ms * TicksPerMs);

    internal long Between(double fromMs, double toMs) => Ms(fromMs + _random.NextDouble() * (toMs - fromMs));

    internal bool Chance(double p) => _random.NextDouble() < p;

    /// <summary>Runs one step of a core (a lock core or a session core) and carries out its effects.</summary>
    internal void Step(Node node, SimHost host, CoreInput input)
    {
        switch (host)
        {
            case CoreHost core:
                Step(node, core, input);
                break;
            case SessionHost session:
                Step(node, session, input);
                break;
        }
    }

    /// <summary>Runs one step of a session core: its table calls and wake-ups, and its changes told to every lock core of the node.</summary>
    internal void Step(Node node, SessionHost host, CoreInput input)
    {
        _steps++;
        _effects.Clear();
        host.Core.Step(input, node.Clock.Now(Now), _effects);
        foreach (var effect in _effects)
        {
            switch (effect)
            {
                case CallTable call:
                    _table.Send(node, host, call.Op, call.Call);
                    break;
                case WakeAt wake:
                    ScheduleWake(node, host, wake.At);
                    break;
                case SessionChanged changed:
                    if (Tracing)
                    {
                        Note($"{node.OwnerName} {host.Label}: generation {changed.State.Generation} {(changed.State.IsLive ? "live" : $"not live ({changed.State.LossReason})")}");
                    }

                    // The manager tells its lock actors (each in its own step, as messages) and its resting cores whose
                    // holding has ended.
                    foreach (var key in node.Cores.Keys.ToList())
                    {
                        ScheduleOn(node, Now, () => node.SessionChanged(key));
                    }

                    break;
                case LogLine log when Tracing:
                    Note($"{node.OwnerName} {host.Label} {log.Level}: {log.Text}");
                    break;
            }
        }
    }

    /// <summary>
    /// Sends a notice that <paramref name="key"/> was freed to each registered waiter, as the lock manager does over
    /// Akka.Remote: it may be lost, come late or twice, or find the incarnation it was meant for gone.
    /// </summary>
    private void Notify(Node from, string key, IReadOnlyCollection<string> addresses)
    {
        foreach (var address in addresses)
        {
            var to = _nodes.FirstOrDefault(n => n.Alive && n.NoticeAddress == address);
            if (to is null || from.PartitionedUntil > Now || (FaultsOn && Chance(0.1)))
            {
                Count("notice-lost");
                continue;
            }

            var copies = FaultsOn && Chance(0.05) ? 2 : 1;
            for (var copy = 0; copy < copies; copy++)
            {
                var delay = FaultsOn && Chance(0.05) ? Between(200, 3000) : Between(1, 5);
                Count(copies > 1 ? "notice-duplicated" : "notice-sent");
                ScheduleOn(to, Now + delay, () =>
                {
                    // As the lock manager: to a running lock actor only (a resting core holds the lock here; no core: nobody waits).
                    if (to.NoticeAddress == address && to.Cores.TryGetValue(key, out var target) && !target.Resting)
                    {
                        to.Input(key, LockFreedInput.Instance, create: false);
                    }
                });
            }
        }
    }

    private void ScheduleWake(Node node, SimHost host, TimeSpan? at)
    {
        var generation = ++host.WakeGeneration;
        if (at is { } due)
        {
            var fireAt = node.Clock.VirtualAt(due);
            if (Chance(0.05))
            {
                // A real timer can fire a little before the time asked for on the node's clock (a coarse scheduler, or a
                // node clock running slow against real time): the core must ask again for what is not due yet.
                fireAt = Math.Max(Now, fireAt - Between(1, 20));
                Count("early-wake");
            }

            ScheduleOn(node, fireAt, () =>
            {
                if (host.WakeGeneration == generation && host.IsCurrentOn(node))
                {
                    Step(node, host, WakeInput.Instance);
                }
            });
        }
    }

    /// <summary>Runs one step of a lock core and carries out its effects (which only ever schedule, never step another core).</summary>
    internal void Step(Node node, CoreHost host, CoreInput input)
    {
        _steps++;
        _effects.Clear();
        host.Core.Step(input, node.Clock.Now(Now), _effects);
        Apply(node, host);
    }

    /// <summary>Takes up a core that rested, on its new host (as the manager starts a lock actor for a resting core).</summary>
    internal void Resume(Node node, CoreHost host)
    {
        _effects.Clear();
        host.Core.Resume(node.Clock.Now(Now), _effects);
        Apply(node, host);
    }

    private void Apply(Node node, CoreHost host)
    {
        foreach (var effect in _effects)
        {
            switch (effect)
            {
                case CallTable call:
                    CheckFreeingWriteAfterRevocation(node, host.Core.Key, call.Call);
                    _table.Send(node, host, call.Op, call.Call);
                    break;
                case SessionNeeded needed:
                    var lease = needed.Slot.LeaseDuration;
                    ScheduleOn(node, Now, () => node.StartSession(lease));
                    break;
                case NotifyWaiters notify:
                    Notify(node, host.Core.Key, notify.Addresses);
                    break;
                case SendTo send:
                    CheckTruth(node, host, send.Message);
                    if (send.Message is LockLost { Reason: LockLossReason.Revoked } && !node.ShuttingDown)
                    {
                        _revokedAt[host.Core.Key] = (Now, node.Clock.Rate, node);
                    }

                    if (send.To is SimRequester to && node.Clients.FirstOrDefault(c => c.Name == to.Client) is { } client)
                    {
                        var message = send.Message;
                        ScheduleOn(node, Now, () => client.Receive(to, message));
                    }

                    break;
                case WatchRequester watch when watch.Who is SimRequester who:
                    host.Watched.Add(who);
                    if (node.Stopped.Contains(who))
                    {
                        // DeathWatch of an actor that is already dead answers at once.
                        ScheduleOn(node, Now, () => node.Input(host.Core.Key, new RequesterStoppedInput(who), create: false));
                    }

                    break;
                case UnwatchRequester unwatch when unwatch.Who is SimRequester who:
                    host.Watched.Remove(who);
                    break;
                case WakeAt wake:
                    ScheduleWake(node, host, wake.At);
                    break;
                case BecameIdle:
                    // The manager stops an idle key's actor: its core, timer and pending answers are gone.
                    host.WakeGeneration++;
                    node.Cores.Remove(host.Core.Key);
                    break;
                case RestOffer:
                    node.Rest(host);
                    break;
                case AllReleased done:
                    node.Released(host.Core.Key, done.ReplyTo);
                    break;
                case LogLine log when Tracing:
                    Note($"{node.OwnerName} {host.Core.Key} {log.Level}: {log.Text}");
                    break;
            }
        }
    }

    /// <summary>
    /// The ghost-holder rule: a holder told that someone took its lock over while the table shows the lock held under this
    /// very node's owner name was told a falsehood, and the record is left held by nobody alive for a lease.
    /// </summary>
    private void CheckTruth(Node node, CoreHost host, object message)
    {
        if (message is LockLost { Reason: LockLossReason.TakenOver } lost
            && _table.Peek(host.Core.Key) is { IsReleased: false } record
            && string.Equals(record.OwnerName, node.OwnerName, StringComparison.Ordinal)
            && !(record.SessionKey is { } session && _table.Peek(session) is null or { IsReleased: true }))
        {
            Violate("ghost-holder", $"{lost.Key}: {node.OwnerName} was told token {lost.FencingToken} was taken over, but the table shows it held by {node.OwnerName} itself (version {record.RecordVersionNumber}, token {record.FencingToken})");
        }
    }

    private void ScheduleNodeFaults()
    {
        // Faults arrive as Poisson processes over the faulty part of the run; each picks its node when it happens.
        void Every(double meanMs, Action fault)
        {
            var at = Now + Ms(-meanMs * Math.Log(1 - _random.NextDouble()));
            if (at < _quietAt)
            {
                ScheduleGlobal(at, () =>
                {
                    fault();
                    Every(meanMs, fault);
                });
            }
        }

        Every(6000, Partition);
        Every(9000, Pause);
        Every(12000, Crash);
    }

    /// <summary>A node that holds a lock now, half the time (that is where faults test the protocol), else any node.</summary>
    private Node Victim()
    {
        var holders = _nodes.Where(n => n.Alive && n.Clients.Any(c => c.IsHolding)).ToList();
        return holders.Count > 0 && Chance(0.5) ? holders[_random.Next(holders.Count)] : _nodes[_random.Next(_nodes.Count)];
    }

    private void Partition()
    {
        var node = Victim();
        var length = Chance(0.5) ? Between(300, 1500) : Between(1500, 4500);
        node.PartitionedUntil = Math.Max(node.PartitionedUntil, Now + length);
        Count("partition");
        if (Tracing)
        {
            Note($"{node.OwnerName} cut off from the table for {length / TicksPerMs} ms");
        }
    }

    private void Pause()
    {
        var node = Victim();
        if (!node.Alive || node.PausedUntil > Now)
        {
            return;
        }

        var length = Chance(0.6) ? Between(50, 800) : Between(800, 3000);
        node.PausedUntil = Now + length;
        Count("pause");
        Record(node.Process, "paused", "-");
        var incarnation = node.Incarnation;
        ScheduleGlobal(node.PausedUntil, () =>
        {
            if (node.Incarnation == incarnation && node.Alive)
            {
                Record(node.Process, "resumed", "-");
            }
        });
    }

    private void Crash()
    {
        var node = Victim();
        if (!node.Alive)
        {
            return;
        }

        if (Chance(0.3) && node.PausedUntil <= Now && !node.ShuttingDown)
        {
            // A graceful stop (CoordinatedShutdown): every core releases what it holds, then the process exits; it is
            // killed anyway if that takes longer than the shutdown timeout.
            Count("graceful-stop");
            node.ShutDown(() => Kill(node));
            var incarnation = node.Incarnation;
            ScheduleGlobal(Now + Ms(4000), () =>
            {
                if (node.Alive && node.Incarnation == incarnation)
                {
                    Count("graceful-stop-timed-out");
                    Kill(node);
                }
            });
            return;
        }

        Count("crash");
        Kill(node);
    }

    private void Kill(Node node)
    {
        if (node.PausedUntil > Now)
        {
            Record(node.Process, "resumed", "-"); // the pause ends with the process
        }

        Record(node.Process, "killed", "-");
        node.Crash();
        ScheduleGlobal(Now + Between(200, 3000), () =>
        {
            Count("restart");
            node.Start();
        });
    }

    private void BeginQuiet()
    {
        // Faults stop: partitions heal now; pauses and calls in flight end on their own within a few seconds.
        foreach (var node in _nodes)
        {
            node.PartitionedUntil = Math.Min(node.PartitionedUntil, Now);
        }

        ScheduleGlobal(Now + Ms(50), LivenessTick);
    }

    /// <summary>
    /// During the quiet period: no lock may stay held by a dead or abandoning holder for longer than lease + drift
    /// allowance + one refresh (on the waiter's clock, plus round trips) while a waiter with an unbounded wait wants it
    /// and can reach the table.
    /// </summary>
    private void LivenessTick()
    {
        var slowest = 1 / _options.MaxClockRate;
        var refresh = _settings.RefreshIntervalWith(notices: true);
        var bound = Ms((_options.LeaseDuration + _options.DriftAllowance + refresh * 2).TotalMilliseconds / slowest + 300);

        // Calls sent before the quiet period may carry a long-tail latency, and a pause may still run: reachable from then on.
        var reachable = _quietAt + Ms(5000);
        foreach (var key in _keys)
        {
            if (_table.Peek(key) is not { IsReleased: false } record || _table.LastWriteAt(key) is not { } writtenAt)
            {
                continue;
            }

            var owner = _nodes.FirstOrDefault(n => n.OwnerName == record.OwnerName);
            var holding = owner is { Alive: true } && owner.Cores.TryGetValue(key, out var host)
                && host.Core.State is LockState.Held or LockState.Renewing or LockState.Releasing or LockState.Acquiring;
            if (holding)
            {
                continue;
            }

            foreach (var waiter in _nodes.Where(n => n.Alive).SelectMany(n => n.Clients).Where(c => c.WaitsUnbounded(key)))
            {
                var since = Math.Max(Math.Max(writtenAt, reachable), waiter.AskedAt);
                if (Now - since > bound && !waiter.Node.Ghosted.Contains(key))
                {
                    waiter.Node.Ghosted.Add(key);
                    Violate("liveness-abandoned", $"{key}: the record written by {record.OwnerName} (version {record.RecordVersionNumber}) at {writtenAt / (double)TicksPerMs:F1} ms is held by no live holder, yet {waiter.Name} (unbounded wait since {waiter.AskedAt / (double)TicksPerMs:F1} ms) still has not got it");
                }
            }
        }

        // Once every client is idle nothing can be stuck any more (no new acquisitions come in the quiet period): the
        // run then ends when the cores have gone idle, instead of simulating the rest of the quiet period.
        if (_nodes.Any(n => n.Alive && n.Clients.Any(c => !c.IsIdle)))
        {
            ScheduleGlobal(Now + Ms(50), LivenessTick);
        }
    }

    private void CheckAtEnd()
    {
        foreach (var client in _nodes.Where(n => n.Alive).SelectMany(n => n.Clients))
        {
            client.CheckAtEnd();
        }
    }

    internal LockTiming Timing(AcquireOptions options) => _settings.ResolveTiming(options);

    internal LockCoreOptions CoreOptions(string ownerName, ILockCoreEntropy entropy, string? noticeAddress = null) =>
        LockCoreOptions.From(_settings with { OwnerName = ownerName }) with
        {
            Entropy = entropy,
            Mutation = _mutation,

            // As a LockManager does: with notices, waiters poll less often.
            NoticeAddress = noticeAddress,
            RefreshInterval = _settings.RefreshIntervalWith(notices: noticeAddress is not null),

            // Well inside the clients' holdings (up to 4 s), so session-held locks rest and are taken up again often.
            RestAfter = TimeSpan.FromMilliseconds(250),
        };

    /// <summary>A session core for <paramref name="lease"/> on a node (the run's heartbeat interval and safety margin).</summary>
    internal SessionCore NewSessionCore(TimeSpan lease, string ownerName, ILockCoreEntropy entropy) =>
        new(new SessionSlot(lease), _options.HeartbeatInterval, _options.SafetyMargin, CoreOptions(ownerName, entropy));

    internal IReadOnlyList<string> Keys => _keys;

    internal SimulationOptions Options => _options;

    internal SimulatedTable Table => _table;

    internal static byte[] Counter(long value)
    {
        var data = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(data, value);
        return data;
    }

    internal static long Counter(ReadOnlyMemory<byte> data) => data.Length >= 8 ? BinaryPrimitives.ReadInt64BigEndian(data.Span) : 0;

    /// <summary>A queued event: for a node's incarnation (deferred by pauses, dropped by crashes), or global.</summary>
    private sealed record Scheduled(Node? Node, int Incarnation, Action Run);
}

/// <summary>A requester as the core sees it: a client in one of its lives (a stopped requester never comes back).</summary>
internal sealed record SimRequester(string Client, int Life);

/// <summary>A core on one node (a key's lock core, or a session core), with what its interpreter keeps beside it.</summary>
internal abstract class SimHost
{
    public long WakeGeneration { get; set; }

    /// <summary>A write of this core ended with an unknown outcome; its next read settles it (and is a fault target).</summary>
    public bool Settling { get; set; }

    /// <summary>What the trace calls this core.</summary>
    public abstract string Label { get; }

    /// <summary>Whether this core still runs on <paramref name="node"/> (not dropped as idle, not gone with a crash).</summary>
    public abstract bool IsCurrentOn(Node node);
}

/// <summary>One key's lock core on one node.</summary>
internal sealed class CoreHost(LockCore core) : SimHost
{
    public LockCore Core { get; } = core;

    public HashSet<SimRequester> Watched { get; } = [];

    /// <summary>The core rests: its actor has gone (timers, watches and answers in flight with it) and the manager keeps the core alone.</summary>
    public bool Resting { get; set; }

    public override string Label => Core.Key;

    // A resting core has no actor: answers and wake-ups addressed to it are dead letters.
    public override bool IsCurrentOn(Node node) => !Resting && node.Cores.GetValueOrDefault(Core.Key) == this;
}

/// <summary>One session core on one node (one per lease duration in use).</summary>
internal sealed class SessionHost(SessionCore core) : SimHost
{
    public SessionCore Core { get; } = core;

    public override string Label => $"session {Core.Key ?? "(none yet)"}";

    public override bool IsCurrentOn(Node node) => node.Sessions.GetValueOrDefault(Core.Slot.LeaseDuration) == this;
}
