using DynamoLock.Actors.Core;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Chaos.Simulation;

/// <summary>
/// The lock table as the nodes see it over the network: <see cref="InMemoryLockTable"/> (the real conditional-write
/// semantics, synchronous under its completed tasks) stamped with virtual time, behind a seeded fault layer — latency
/// with a long tail, requests lost before they apply, throttling, applied writes whose answers are lost, reads that fail
/// (settling reads most of all), SDK retries that deliver an applied write twice, and partitions.
/// </summary>
internal sealed class SimulatedTable
{
    private readonly SimulationRun _run;
    private readonly InMemoryLockTable _table;
    private readonly Dictionary<string, long> _lastWriteAt = new(StringComparer.Ordinal);

    public SimulatedTable(SimulationRun run)
    {
        _run = run;
        _table = new InMemoryLockTable("simulation", new VirtualTimeProvider(() => run.Now));
    }

    /// <summary>The record now (the simulator's view, for its own checks; no node sees it this way).</summary>
    public LockRecord? Peek(string key) => _table.ReadAsync(new LockKey(key)).GetAwaiter().GetResult();

    /// <summary>When the record of <paramref name="key"/> last changed.</summary>
    public long? LastWriteAt(string key) => _lastWriteAt.TryGetValue(key, out var at) ? at : null;

    /// <summary>Sends <paramref name="call"/> from <paramref name="host"/>; its outcome comes back to the core as an input, maybe.</summary>
    public void Send(Node node, SimHost host, long op, TableCall call)
    {
        var run = _run;
        var write = call is not ReadCall;
        if (run.Tracing)
        {
            run.Note($"{node.OwnerName} sends op {op}: {Describe(call)}");
        }

        if (call is AddWaiterCall addWaiter)
        {
            Register(node, addWaiter);
            return;
        }

        var settling = !write && host.Settling;
        if (!write)
        {
            host.Settling = false;
        }

        if (node.PartitionedUntil > run.Now)
        {
            // No route to the table: the SDK gives up after its connect timeout; nothing was applied.
            run.Count("call-refused-by-partition");
            Answer(node, host, run.Between(20, 400), new TableFailed(op, Unavailable("partitioned: no route to the table")));
            return;
        }

        if (run.FaultsOn)
        {
            var dice = run.Random.NextDouble();
            if (dice < 0.02)
            {
                run.Count("throttled");
                Answer(node, host, Latency(), new TableFailed(op, Unavailable("throttled (ProvisionedThroughputExceededException)")));
                return;
            }

            if (dice < 0.04)
            {
                run.Count("lost-before-apply");
                Answer(node, host, run.Between(50, 1000), new TableFailed(op, Unavailable("connection reset before the request was sent")));
                return;
            }

            if (!write && (dice < 0.08 || (settling && dice < 0.6)))
            {
                run.Count(settling ? "settling-read-failed" : "read-failed");
                Answer(node, host, Latency(), new TableFailed(op, Unavailable("read timed out")));
                return;
            }
        }

        var toTable = Latency();
        var back = Latency();
        run.ScheduleGlobal(run.Now + toTable, () =>
        {
            var outcome = Apply(op, call);
            if (write && run.FaultsOn && run.Random.NextDouble() < 0.03)
            {
                // The SDK did not see the answer and sent the same request again: it is applied a second time, and the
                // second answer is the one the caller gets.
                run.Count("duplicate-delivery");
                run.ScheduleGlobal(run.Now + run.Between(1, 50), () => Answer(node, host, back, Apply(op, call)));
                return;
            }

            if (write && run.FaultsOn && run.Random.NextDouble() < 0.04)
            {
                run.Count("answer-lost-after-apply");
                Answer(node, host, run.Between(100, 1500), new TableFailed(op, Unavailable("timed out waiting for the answer", outcomeUnknown: true)));
                return;
            }

            Answer(node, host, back, outcome);
        });
    }

    /// <summary>
    /// A waiter's registration (notices): nobody waits for its answer, so none is sent back, unless it found the lock free
    /// (the release landed first): then the node is told as by a notice, and that answer can be lost too. It may be lost
    /// on the way or land late, after the lock changed hands; it never changes what a lock's holder or version is.
    /// </summary>
    private void Register(Node node, AddWaiterCall call)
    {
        var run = _run;
        if (node.PartitionedUntil > run.Now || (run.FaultsOn && run.Random.NextDouble() < 0.04))
        {
            run.Count("registration-lost");
            return;
        }

        run.ScheduleGlobal(run.Now + Latency(), () =>
        {
            var before = _table.ReadAsync(call.Key).GetAwaiter().GetResult();
            var registration = _table.AddWaiterAsync(call.Key, call.Waiter).GetAwaiter().GetResult();
            var after = _table.ReadAsync(call.Key).GetAwaiter().GetResult();
            if (registration == WaiterRegistration.LockFree)
            {
                if (node.PartitionedUntil > run.Now || (run.FaultsOn && run.Random.NextDouble() < 0.04))
                {
                    run.Count("registration-answer-lost");
                }
                else
                {
                    run.Count("registration-found-free");
                    run.ScheduleOn(node, run.Now + Latency(), () =>
                    {
                        // As the interpreter: to the node's running core for the key, if it still has one.
                        if (node.Alive && node.NoticeAddress == call.Waiter && node.Cores.TryGetValue(call.Key.Key, out var target) && !target.Resting)
                        {
                            node.Input(call.Key.Key, LockFreedInput.Instance, create: false);
                        }
                    });
                }
            }

            if (before is not null && after is not null
                && (before.RecordVersionNumber != after.RecordVersionNumber || before.OwnerName != after.OwnerName || before.FencingToken != after.FencingToken || before.IsReleased != after.IsReleased))
            {
                run.Violate("registration-changed-holder", $"{call.Key}: registering {call.Waiter} changed the record: {before} -> {after}");
            }
        });
    }

    private static LockTableUnavailableException Unavailable(string message, bool outcomeUnknown = false) => new(message) { OutcomeUnknown = outcomeUnknown };

    /// <summary>One leg of a round trip: mostly milliseconds, sometimes hundreds, rarely seconds.</summary>
    private long Latency()
    {
        var run = _run;
        if (!run.FaultsOn)
        {
            return run.Between(1, 10);
        }

        var dice = run.Random.NextDouble();
        if (dice < 0.006)
        {
            run.Count("latency-long-tail");
            return run.Between(800, 4000);
        }

        if (dice < 0.05)
        {
            run.Count("latency-tail");
            return run.Between(50, 600);
        }

        return run.Between(1, 20);
    }

    /// <summary>Delivers an outcome to the core that asked, unless its node crashed, dropped that core, or is cut off now.</summary>
    private void Answer(Node node, SimHost host, long after, CoreInput outcome)
    {
        var run = _run;
        run.ScheduleOn(node, run.Now + after, () =>
        {
            if (!host.IsCurrentOn(node))
            {
                return;
            }

            var input = outcome;
            if (node.PartitionedUntil > run.Now && outcome is not TableFailed)
            {
                // The connection broke while the answer was on its way back: a write's outcome is unknown.
                run.Count("answer-lost-in-partition");
                input = new TableFailed(Op(outcome), Unavailable("connection lost while waiting for the answer", outcomeUnknown: outcome is not ReadAnswered));
            }

            if (input is TableFailed { Error: LockTableUnavailableException { OutcomeUnknown: true } })
            {
                host.Settling = true;
            }

            if (run.Tracing)
            {
                run.Note($"{node.OwnerName} receives op {Op(input)}: {Describe(input)}");
            }

            run.Step(node, host, input);
        });
    }

    private static string Describe(TableCall call) => call switch
    {
        AcquireCall a => $"acquire {a.Request.Key} new {a.Request.NewRecordVersionNumber}{(a.TakeOverVersion is { } v ? $" taking over {v}" : string.Empty)}{(a.Request.SessionKey is { } s ? $" under {s}" : string.Empty)}",
        HeartbeatCall h => $"heartbeat {h.Request.Key} {h.Request.RecordVersionNumber} -> {h.Request.NewRecordVersionNumber}{(h.Request.IssueNewFencingToken ? " (hand-off)" : string.Empty)}{(h.Request.Data is null ? string.Empty : " (data)")}{(h.Request.SessionKey is { } s ? $" under {s}" : string.Empty)}",
        ReleaseCall r => $"release {r.Request.Key} {r.Request.RecordVersionNumber} -> {r.Request.NewRecordVersionNumber}",
        ReadCall r => $"read {r.Key}",
        _ => call.ToString(),
    };

    private static string Describe(CoreInput input) => input switch
    {
        AcquireAnswered { Result: AcquireResult.Granted g } => $"granted {Describe(g.Record)}",
        AcquireAnswered { Result: AcquireResult.Held h } => $"held {Describe(h.Holder)}",
        HeartbeatAnswered { Result: HeartbeatResult.Renewed r } => $"renewed {Describe(r.Record)}",
        HeartbeatAnswered { Result: HeartbeatResult.Lost l } => $"lost {Describe(l.Current)}",
        ReleaseAnswered { Result: ReleaseResult.NotHeld n } => $"not held {Describe(n.Current)}",
        ReleaseAnswered => "released",
        ReadAnswered r => $"read {Describe(r.Record)}",
        TableFailed f => $"failed{(f.Error is LockTableUnavailableException { OutcomeUnknown: true } ? " (outcome unknown)" : string.Empty)}: {f.Error.Message}",
        _ => input.ToString(),
    };

    private static string Describe(LockRecord? record) =>
        record is null ? "no record" : $"{record.OwnerName} {record.RecordVersionNumber} token {record.FencingToken}{(record.IsReleased ? " released" : string.Empty)}{(record.SessionKey is { } session ? $" under {session}" : string.Empty)}";

    private static long Op(CoreInput outcome) => outcome switch
    {
        AcquireAnswered a => a.Op,
        HeartbeatAnswered h => h.Op,
        ReleaseAnswered r => r.Op,
        ReadAnswered r => r.Op,
        TableFailed f => f.Op,
        _ => throw new InvalidOperationException($"not a table outcome: {outcome}"),
    };

    /// <summary>Applies one call to the table now and returns its answer.</summary>
    private CoreInput Apply(long op, TableCall call)
    {
        var key = call switch
        {
            AcquireCall a => a.Request.Key,
            HeartbeatCall h => h.Request.Key,
            ReleaseCall r => r.Request.Key,
            ReadCall r => r.Key,
            _ => throw new InvalidOperationException($"unknown table call {call}"),
        };
        var before = _table.ReadAsync(key).GetAwaiter().GetResult();
        CoreInput answer;
        try
        {
            answer = call switch
            {
                AcquireCall { TakeOverVersion: null } a => new AcquireAnswered(op, _table.TryAcquireAsync(a.Request).GetAwaiter().GetResult()),
                AcquireCall a => new AcquireAnswered(op, _table.TakeOverAsync(a.Request, a.TakeOverVersion!).GetAwaiter().GetResult()),
                HeartbeatCall h => new HeartbeatAnswered(op, _table.HeartbeatAsync(h.Request).GetAwaiter().GetResult()),
                ReleaseCall r => new ReleaseAnswered(op, _table.ReleaseAsync(r.Request).GetAwaiter().GetResult()),
                ReadCall r => new ReadAnswered(op, _table.ReadAsync(r.Key).GetAwaiter().GetResult()),
                _ => throw new InvalidOperationException($"unknown table call {call}"),
            };
        }
        catch (ArgumentException e)
        {
            // The table refuses a malformed request; the core should never send one.
            _run.Violate("invalid-request", $"{key}: the table refused {call}: {e.Message}");
            return new TableFailed(op, new LockTableException("invalid request: " + e.Message, e));
        }

        if (!ReferenceEquals(before, _table.ReadAsync(key).GetAwaiter().GetResult()))
        {
            _lastWriteAt[key.Key] = _run.Now;
        }

        return answer;
    }
}
