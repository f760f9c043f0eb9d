using DynamoLock.Actors.Core;

namespace DynamoLock.Actors.Chaos.Simulation;

/// <summary>
/// A client of a node, in the manner of <see cref="ChaosWorker"/>: acquires a random key (try once, a bounded wait or an
/// unbounded one), records the grant with the counter stored in the lock's data, writes to the fenced resource while it
/// holds, sometimes stores the next counter value, then releases; sometimes it stops (its requester dies) or stops
/// heartbeating and lets the lock expire. Every step goes into the history the checker reads.
/// </summary>
internal sealed class SimClient(Node node, string name)
{
    private SimulationRun Run => node.Run;

    private SimRequester _me = new(name, 0);
    private Phase _phase = Phase.Idle;
    private string _key = string.Empty;
    private long _token;
    private long _counter;
    private bool _unbounded;
    private TimeSpan _wait;
    private int _timer;
    private bool _heartbeatStopped;
    private int _revocations;

    public string Name => name;

    public Node Node => node;

    /// <summary>When the current acquisition was asked for.</summary>
    public long AskedAt { get; private set; }

    public bool IsHolding => _phase is Phase.Holding;

    public bool IsIdle => _phase is Phase.Idle;

    public bool WaitsUnbounded(string key) => _phase is Phase.Acquiring && _unbounded && _key == key;

    public void Start() => Later(Run.Between(0, 200), Next);

    /// <summary>A message from the core to this client's current requester (messages to a stopped one are lost).</summary>
    public void Receive(SimRequester to, object message)
    {
        if (to != _me)
        {
            return;
        }

        switch (message)
        {
            case LockAcquired m when _phase is Phase.Acquiring && m.Key == _key:
                Granted(m);
                break;
            case LockAcquired m:
                // A grant nobody asked for (or a second one): the checker sees it as a holding that never ends.
                Run.Record(name, "granted", m.Key, m.FencingToken, SimulationRun.Counter(m.Data), "unexpected");
                Run.Violate("unexpected-grant", $"{m.Key}: {name} was granted token {m.FencingToken} while {_phase} {_key}");
                break;
            case LockNotAcquired m when _phase is Phase.Acquiring && m.Key == _key:
                Run.Record(name, "not-acquired", m.Key, detail: m.Kind.ToString());
                if (_unbounded && Run.Quiet && AskedAt >= Run.Options.Duration.Ticks + Run.Ms(5000))
                {
                    Run.Violate("liveness-refused", $"{m.Key}: {name}'s unbounded wait was refused with the table reachable ({m.Kind}: {m.Reason})");
                }

                Idle(Run.Between(20, 200));
                break;
            case LockDataStored m when _phase is Phase.Holding && m.Key == _key && m.FencingToken == _token:
                Run.Record(name, "store-acked", m.Key, m.FencingToken, _counter);
                break;
            case LockLost m when _phase is Phase.Holding or Phase.Releasing && m.Key == _key && m.FencingToken == _token:
                if (_phase is Phase.Holding)
                {
                    Run.Record(name, "lost", m.Key, m.FencingToken, detail: m.Reason.ToString());
                }

                Idle(Run.Ms(50));
                break;
            case LockReleased m when _phase is Phase.Releasing && m.Key == _key && m.FencingToken == _token:
                Run.Record(name, "released", m.Key, m.FencingToken);
                Idle(Run.Between(0, 100));
                break;
            case LockNotHeld m when _phase is Phase.Holding or Phase.Releasing && m.Key == _key:
                // A data write or release refused: the lock is gone (a LockLost that may follow is then ignored).
                if (_phase is Phase.Holding)
                {
                    Run.Record(name, "release", m.Key, _token, detail: "not held: " + m.Kind);
                }

                Idle(Run.Between(0, 100));
                break;
        }
    }

    public void CheckAtEnd()
    {
        var end = Run.Now;
        if (_phase is Phase.Acquiring && _unbounded)
        {
            Run.Violate("liveness-waiter", $"{_key}: {name} asked at {AskedAt / (double)SimulationRun.TicksPerMs:F1} ms with an unbounded wait and never got the lock");
        }
        else if (_phase is Phase.Acquiring && end - AskedAt > _wait.Ticks * 2 + Run.Ms(10_000))
        {
            Run.Violate("liveness-answer", $"{_key}: {name} asked at {AskedAt / (double)SimulationRun.TicksPerMs:F1} ms waiting at most {_wait.TotalMilliseconds} ms and never had an answer");
        }
        else if (_phase is Phase.Releasing)
        {
            Run.Violate("liveness-answer", $"{_key}: {name}'s release (token {_token}) was never answered");
        }
        else if (_phase is Phase.Holding && _heartbeatStopped)
        {
            Run.Violate("stop-heartbeat", $"{_key}: {name} stopped heartbeating token {_token} and never heard LockLost");
        }
    }

    private void Next()
    {
        if (Run.Quiet)
        {
            return; // no new acquisitions in the quiet period
        }

        if (Run.Chance(0.03) && node.Clients.FirstOrDefault(c => c != this && c.IsHolding) is { } holder)
        {
            // Now and then a client releases another's lock by its fencing token (as an operator would): the holder is
            // told LockLost(Revoked) first, and the core must give it the safety margin before anyone else gets the lock.
            // The release goes out under a requester of its own, so its answer cannot be taken for this client's.
            var by = new SimRequester(name + "/revoke", ++_revocations);
            var (key, token) = (holder._key, holder._token);
            Run.ScheduleOn(node, Run.Now, () => node.Input(key, new ReleaseInput(by, token)));
            Idle(Run.Between(20, 200));
            return;
        }

        _key = Run.Keys[Run.Random.Next(Run.Keys.Count)];
        var mode = Run.Random.NextDouble();
        (_wait, _unbounded) = mode switch
        {
            < 0.35 => (TimeSpan.Zero, false),
            < 0.75 => (TimeSpan.FromTicks(Run.Between(100, 3000)), false),
            _ => (Timeout.InfiniteTimeSpan, true),
        };
        _phase = Phase.Acquiring;
        AskedAt = Run.Now;
        Run.Record(name, "acquire", _key, detail: _unbounded ? "unbounded" : $"wait {_wait.TotalMilliseconds:F0} ms");
        var options = AcquireOptions.Wait(_wait) with
        {
            // Some locks have a shorter lease of their own (the record tells waiters which lease to observe).
            LeaseDuration = Run.Chance(0.2) ? TimeSpan.FromMilliseconds(1200) : null,
        };
        if (Run.Chance(0.1))
        {
            // Initial data that must not replace what is stored: the counter a grant reads must survive it (lost-increment).
            options = options with { Data = SimulationRun.Counter(0), ReplaceData = false };
        }

        var timing = Run.Timing(options);
        Send(new AcquireInput(_me, options, timing, node.UsesSessions ? node.SessionFor(timing.LeaseDuration!.Value) : null));

        // Now and then the requester dies while it waits: its wait must end (DeathWatch), whatever it was.
        if (Run.Chance(0.04))
        {
            var timer = ++_timer;
            Later(Run.Between(0, 1500), () =>
            {
                if (timer == _timer && _phase is Phase.Acquiring)
                {
                    Run.Record(name, "not-acquired", _key, detail: "requester stopped");
                    Die();
                }
            });
        }
    }

    private void Granted(LockAcquired m)
    {
        _phase = Phase.Holding;
        _token = m.FencingToken;
        _heartbeatStopped = false;
        var stored = SimulationRun.Counter(m.Data);
        Run.Record(name, "granted", m.Key, m.FencingToken, stored);
        FencedWrite();
        _counter = stored + 1;
        if (Run.Chance(0.6))
        {
            Send(new StoreDataInput(_me, Run.Chance(0.2) ? _token : null, SimulationRun.Counter(_counter)));
        }

        // Mostly short holdings; some outlast the lease, so partitions and pauses catch holders mid-work.
        var hold = Run.Quiet ? Run.Between(10, 100) : Run.Chance(0.15) ? Run.Between(1000, 4000) : Run.Between(20, 300);
        var timer = ++_timer;
        var token = _token;
        Later(hold, () =>
        {
            if (timer == _timer && _phase is Phase.Holding && _token == token)
            {
                HoldEnded();
            }
        });
        WorkLoop(timer, token);
    }

    /// <summary>While it holds, the client writes to the fenced resource every so often (a stale token is refused there).</summary>
    private void WorkLoop(int timer, long token) => Later(Run.Between(50, 250), () =>
    {
        if (timer == _timer && _phase is Phase.Holding && _token == token)
        {
            FencedWrite();
            WorkLoop(timer, token);
        }
    });

    private void FencedWrite() =>
        Run.Record(name, Run.FencedWrite(_key, _token) ? "write-accepted" : "write-rejected", _key, _token);

    private void HoldEnded()
    {
        var choice = Run.Random.NextDouble();
        if (choice < 0.08 && !_heartbeatStopped && !Run.Quiet && !node.UsesSessions)
        {
            // Let it expire: the holder keeps working until it hears LockLost at its safe deadline.
            _heartbeatStopped = true;
            Send(new StopHeartbeatInput(_me, Run.Chance(0.3) ? _token : null));
        }
        else if (choice < 0.15)
        {
            Run.Record(name, "release", _key, _token, detail: "requester stopped");
            Die();
        }
        else
        {
            _phase = Phase.Releasing;
            _timer++;
            Run.Record(name, "release", _key, _token);
            Send(new ReleaseInput(_me, Run.Chance(0.2) ? _token : null));
        }
    }

    /// <summary>The requester stops (its actor dies); the client carries on as a new requester a little later.</summary>
    private void Die()
    {
        var dead = _me;
        _me = dead with { Life = dead.Life + 1 };
        _phase = Phase.Idle;
        _timer++;
        node.RequesterStopped(dead);
        Later(Run.Between(10, 300), Next);
    }

    private void Idle(long after)
    {
        _phase = Phase.Idle;
        var timer = ++_timer;
        Later(after, () =>
        {
            if (timer == _timer)
            {
                Next();
            }
        });
    }

    private void Send(CoreInput input)
    {
        var key = _key;
        Run.ScheduleOn(node, Run.Now, () => node.Input(key, input));
    }

    private void Later(long after, Action action) => Run.ScheduleOn(node, Run.Now + after, action);

    private enum Phase
    {
        Idle,
        Acquiring,
        Holding,
        Releasing,
    }
}
