using Akka.Actor;
using Amazon.DynamoDBv2;
using DynamoLock.Actors.Host.Commands;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Host.SelfTest;

/// <summary>
/// Runs the protocol's promises against one table and reports a line for each (see docs/selftest.md): requests per
/// operation, conditional-write semantics, consistent reads, fencing tokens, takeover only after a lease (through a
/// real <see cref="LockManager"/>), clock independence, and latency. Every key it writes is one of <see cref="SelfTestKeys"/>;
/// deleting them is the caller's, in a finally.
/// </summary>
internal sealed class SelfTestRun
{
    public const string UncontendedAcquire = "requests per uncontended acquire";
    public const string Heartbeat = "requests per heartbeat";
    public const string Release = "requests per release";
    public const string Takeover = "requests per takeover";
    public const string ContendedAcquire = "requests per contended acquire";
    public const string RefusedWhileHeld = "second owner refused while held";
    public const string StaleWrites = "stale heartbeat and release refused";
    public const string StaleTakeover = "stale takeover refused";
    public const string ReadAfterWrite = "consistent read after write";
    public const string FencingTokens = "fencing tokens strictly increase";
    public const string TakeoverAfterLease = "takeover only after the lease";
    public const string ClockIndependence = "clock independence";
    public const string AcquireLatency = "latency of uncontended acquire";
    public const string ReleaseLatency = "latency of release";
    public const string NotRun = "not run";

    /// <summary>How far behind the crashed holder's wall clock is set: far enough that its record looks abandoned to any wall clock.</summary>
    private static readonly TimeSpan CrashedHolderClockOffset = TimeSpan.FromHours(-1);

    private readonly IAmazonDynamoDB _client;
    private readonly DynamoDbLockTable _table;
    private readonly ServerClockWatch _requests;
    private readonly SelfTestKeys _keys;
    private readonly SelfTestOptions _options;
    private readonly Action<SelfTestCheck> _report;
    private readonly TimeProvider _clock = TimeProvider.System;

    private readonly RequestTally _acquires = new();
    private readonly RequestTally _heartbeats = new();
    private readonly RequestTally _releases = new();
    private readonly RequestTally _takeovers = new();
    private readonly RequestTally _contended = new();
    private readonly List<TimeSpan> _acquireLatency = [];
    private readonly List<TimeSpan> _releaseLatency = [];
    private readonly List<string> _readMisses = [];
    private int _reads;

    public SelfTestRun(IAmazonDynamoDB client, DynamoDbLockTable table, ServerClockWatch requests, SelfTestKeys keys, SelfTestOptions options, Action<SelfTestCheck> report)
    {
        _client = client;
        _table = table;
        _requests = requests;
        _keys = keys;
        _options = options;
        _report = report;
    }

    /// <summary>Runs every check, reporting each line as soon as it is decided; a broken promise the rest depends on ends the run early.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            var conditions = await ConditionalWritesAsync(cancellationToken).ConfigureAwait(false);
            var samples = await SamplesAsync(cancellationToken).ConfigureAwait(false);

            _report(_acquires.JudgeOne(UncontendedAcquire, "UpdateItem", "acquires (a new key, a released key, and the samples)"));
            _report(_heartbeats.JudgeOne(Heartbeat, "UpdateItem", "heartbeats"));
            _report(_releases.JudgeOne(Release, "UpdateItem", "releases (keeping the record)"));
            _report(_takeovers.JudgeOne(Takeover, "UpdateItem", "takeovers"));
            _report(_contended.JudgeContended(ContendedAcquire));
            _report(SelfTestCheck.Pass(RefusedWhileHeld, conditions.RefusedWhileHeld));
            _report(SelfTestCheck.Pass(StaleWrites, conditions.StaleWrites));
            _report(SelfTestCheck.Pass(StaleTakeover, conditions.StaleTakeover));
            _report(_readMisses.Count == 0
                ? SelfTestCheck.Pass(ReadAfterWrite, $"{_reads} of {_reads} consistent reads right after a write saw that write")
                : SelfTestCheck.Fail(ReadAfterWrite, $"{_reads - _readMisses.Count} of {_reads} consistent reads right after a write saw it; missed: {string.Join("; ", _readMisses.Take(3))}"));
            _report(Fencing(conditions, samples));

            var takeover = await TakeoverAfterLeaseAsync(cancellationToken).ConfigureAwait(false);
            _report(takeover.Check);
            _report(ClockFacts(takeover.Stored));
            _report(SelfTestCheck.Note(AcquireLatency, $"{LatencySummary.Of(_acquireLatency)}, one UpdateItem each, timed around the library's call"));
            _report(SelfTestCheck.Note(ReleaseLatency, $"{LatencySummary.Of(_releaseLatency)}, one UpdateItem each"));
        }
        catch (SelfTestFailure failure)
        {
            _report(failure.Check);
            _report(SelfTestCheck.Note(NotRun, "the checks after this failure: they build on the promise that broke"));
        }
    }

    /// <summary>
    /// Two owners on one key: acquire, heartbeats, a second owner's acquires, stale and foreign writes (each must be refused
    /// and leave the record as it was), a takeover with a stale and with the current version, release, acquire again.
    /// </summary>
    private async Task<ConditionFigures> ConditionalWritesAsync(CancellationToken cancellationToken)
    {
        var key = _keys.Key("conditions");
        var a = Owner("a");
        var b = Owner("b");
        var lease = _options.Lease;

        var first = Expect<AcquireResult.Granted>(
            await CountedAsync(_acquires, () => _table.TryAcquireAsync(new AcquireLockRequest(key, a, lease), cancellationToken)).ConfigureAwait(false),
            UncontendedAcquire,
            "acquiring a new key").Record;
        await ReadBackAsync(key, a, first.RecordVersionNumber, released: false, "the first acquire", cancellationToken).ConfigureAwait(false);

        var held = first;
        for (var i = 0; i < 3; i++)
        {
            var version = held.RecordVersionNumber;
            held = Expect<HeartbeatResult.Renewed>(
                await CountedAsync(_heartbeats, () => _table.HeartbeatAsync(new HeartbeatLockRequest(key, a, version, lease), cancellationToken)).ConfigureAwait(false),
                Heartbeat,
                "the holder's heartbeat").Record;
            await ReadBackAsync(key, a, held.RecordVersionNumber, released: false, "a heartbeat", cancellationToken).ConfigureAwait(false);
        }

        const int contendedRuns = 3;
        for (var i = 0; i < contendedRuns; i++)
        {
            var refusal = Expect<AcquireResult.Held>(
                await CountedAsync(_contended, () => _table.TryAcquireAsync(new AcquireLockRequest(key, b, lease), cancellationToken)).ConfigureAwait(false),
                RefusedWhileHeld,
                "a second owner's acquire while the lock is held");
            if (!refusal.Holder.IsWrittenBy(a, held.RecordVersionNumber) || refusal.Holder.FencingToken != first.FencingToken)
            {
                throw new SelfTestFailure(SelfTestCheck.Fail(RefusedWhileHeld, $"the refusal named {Describe(refusal.Holder)}, not '{a}' at its current record version with fencing token {first.FencingToken}"));
            }
        }

        // A version the holder has since replaced: what a paused holder, or a waiter that read long ago, would still have.
        var stale = first.RecordVersionNumber;
        await ExpectRefusedAsync<HeartbeatResult, HeartbeatResult.Lost>(StaleWrites, "a heartbeat with a stale record version", () => _table.HeartbeatAsync(new HeartbeatLockRequest(key, a, stale, lease), cancellationToken), key, held, cancellationToken).ConfigureAwait(false);
        await ExpectRefusedAsync<HeartbeatResult, HeartbeatResult.Lost>(StaleWrites, "a heartbeat by another owner", () => _table.HeartbeatAsync(new HeartbeatLockRequest(key, b, held.RecordVersionNumber, lease), cancellationToken), key, held, cancellationToken).ConfigureAwait(false);
        await ExpectRefusedAsync<ReleaseResult, ReleaseResult.NotHeld>(StaleWrites, "a release with a stale record version", () => _table.ReleaseAsync(new ReleaseLockRequest(key, a, stale), cancellationToken), key, held, cancellationToken).ConfigureAwait(false);
        await ExpectRefusedAsync<ReleaseResult, ReleaseResult.NotHeld>(StaleWrites, "a release by another owner", () => _table.ReleaseAsync(new ReleaseLockRequest(key, b, held.RecordVersionNumber), cancellationToken), key, held, cancellationToken).ConfigureAwait(false);
        var staleRefusal = await ExpectRefusedAsync<AcquireResult, AcquireResult.Held>(StaleTakeover, "a takeover conditioned on a stale record version", () => _table.TakeOverAsync(new AcquireLockRequest(key, b, lease), stale, cancellationToken), key, held, cancellationToken).ConfigureAwait(false);
        if (!staleRefusal.Holder.IsWrittenBy(a, held.RecordVersionNumber))
        {
            throw new SelfTestFailure(SelfTestCheck.Fail(StaleTakeover, $"the refused takeover named {Describe(staleRefusal.Holder)}, not the holder '{a}'"));
        }

        var observed = held.RecordVersionNumber;
        var taken = Expect<AcquireResult.Granted>(
            await CountedAsync(_takeovers, () => _table.TakeOverAsync(new AcquireLockRequest(key, b, lease), observed, cancellationToken)).ConfigureAwait(false),
            StaleTakeover,
            "a takeover conditioned on the current record version").Record;
        await ReadBackAsync(key, b, taken.RecordVersionNumber, released: false, "the takeover", cancellationToken).ConfigureAwait(false);
        await ExpectRefusedAsync<HeartbeatResult, HeartbeatResult.Lost>(StaleWrites, "the old holder's heartbeat after the takeover", () => _table.HeartbeatAsync(new HeartbeatLockRequest(key, a, observed, lease), cancellationToken), key, taken, cancellationToken).ConfigureAwait(false);

        await ReleaseAsync(key, b, taken, "the new holder's release", cancellationToken).ConfigureAwait(false);
        var again = Expect<AcquireResult.Granted>(
            await CountedAsync(_acquires, () => _table.TryAcquireAsync(new AcquireLockRequest(key, a, lease), cancellationToken)).ConfigureAwait(false),
            UncontendedAcquire,
            "acquiring a released key").Record;
        await ReadBackAsync(key, a, again.RecordVersionNumber, released: false, "acquiring the released key", cancellationToken).ConfigureAwait(false);
        await ReleaseAsync(key, a, again, "the holder's release", cancellationToken).ConfigureAwait(false);

        return new ConditionFigures(
            $"{contendedRuns} of {contendedRuns} acquires by another owner were refused and told the holder ('{a}', its current record version, fencing token {first.FencingToken})",
            "5 of 5 refused, each leaving the holder's record as it was: a heartbeat with a stale record version, a heartbeat by another owner, " +
            "a release with a stale record version, a release by another owner, the old holder's heartbeat after a takeover",
            "a takeover conditioned on a stale record version was refused and told the holder; conditioned on the current one it was granted",
            first.FencingToken,
            taken.FencingToken,
            again.FencingToken);
    }

    /// <summary>Rounds of uncontended acquire and release on one key: timed, counted, read back, tokens compared.</summary>
    private async Task<SampleFigures> SamplesAsync(CancellationToken cancellationToken)
    {
        var key = _keys.Key("samples");
        var owner = Owner("a");
        long first = 0;
        long previous = 0;
        var decreases = new List<string>();
        for (var round = 1; round <= _options.Samples; round++)
        {
            var started = _clock.GetTimestamp();
            var result = await CountedAsync(_acquires, () => _table.TryAcquireAsync(new AcquireLockRequest(key, owner, _options.Lease), cancellationToken)).ConfigureAwait(false);
            _acquireLatency.Add(_clock.GetElapsedTime(started));
            var granted = Expect<AcquireResult.Granted>(result, UncontendedAcquire, $"acquiring the free sample key (round {round})").Record;
            if (round == 1)
            {
                first = granted.FencingToken;
            }
            else if (granted.FencingToken <= previous)
            {
                decreases.Add($"{previous} then {granted.FencingToken}");
            }

            previous = granted.FencingToken;
            await ReadBackAsync(key, owner, granted.RecordVersionNumber, released: false, $"acquire round {round}", cancellationToken).ConfigureAwait(false);
            _releaseLatency.Add(await ReleaseAsync(key, owner, granted, $"release round {round}", cancellationToken).ConfigureAwait(false));
        }

        return new SampleFigures(first, previous, decreases);
    }

    /// <summary>
    /// A crashed holder (a direct table write, never heartbeated, its wall clock an hour behind) and a waiter through a real
    /// LockManager: the waiter must take the lock over, and only once a full lease has passed on its own monotonic clock
    /// since it first received the holder's record.
    /// </summary>
    private async Task<(SelfTestCheck Check, LockRecord? Stored)> TakeoverAfterLeaseAsync(CancellationToken cancellationToken)
    {
        var key = _keys.Key("takeover");
        var lease = _options.Lease;
        var crashedOwner = Owner("crashed");

        // Its heartbeatAt looks an hour old to anyone reading wall clocks: a waiter that trusted it would take over at once.
        var crashedTable = new DynamoDbLockTable(_client, _table.Options with { TimeProvider = new ShiftedWallClock(CrashedHolderClockOffset) });
        var holderSentAt = _clock.GetTimestamp();
        var crashed = Expect<AcquireResult.Granted>(
            await crashedTable.TryAcquireAsync(new AcquireLockRequest(key, crashedOwner, lease), cancellationToken).ConfigureAwait(false),
            TakeoverAfterLease,
            "the crashed holder's acquire of a new key").Record;
        var stored = await _table.ReadAsync(key, cancellationToken).ConfigureAwait(false);

        // Only the defaults that make a waiter quick to test change: the lease and its heartbeat. The drift allowance and the
        // refresh interval stay the library's. No sessions: a waiter watches the lock's own record version.
        var settings = new DynamoLockSettings { OwnerName = Owner("waiter"), LeaseDuration = lease, HeartbeatInterval = lease / 4, UseSessions = false }.Validate();
        var needed = lease + settings.DriftAllowance;
        var wait = needed + settings.RefreshInterval + lease + TimeSpan.FromSeconds(10);
        var timeline = new TimelineLockTable(_table, _clock);
        _requests.Reset();
        long? tokenHeld = null;
        LockNotAcquiredException? notAcquired = null;
        using (var system = ToolActorSystem.Create("dynamolock-selftest", _options.Verbose))
        {
            try
            {
                var client = new DynamoLockClient(system, system.ActorOf(LockManager.Props(timeline, settings), "dynamolock"));
                try
                {
                    var handle = await client.AcquireAsync(key.Key, wait, new AcquireOptions { LeaseDuration = lease }, cancellationToken).ConfigureAwait(false);
                    await using (handle.ConfigureAwait(false))
                    {
                        tokenHeld = handle.FencingToken;
                    }
                }
                catch (LockNotAcquiredException e)
                {
                    notAcquired = e;
                }
            }
            finally
            {
                await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
            }
        }

        var requests = RequestTally.Describe(_requests.Counts);
        if (notAcquired is not null || tokenHeld is null)
        {
            return (SelfTestCheck.Fail(TakeoverAfterLease, $"the LockManager did not get the crashed holder's lock within {Durations.Format(wait)} ({notAcquired?.Kind}); lease {Durations.Format(lease)}"), stored);
        }

        var calls = timeline.Calls.Where(c => c.Key == key).ToList();
        var firstSeen = calls.FirstOrDefault(c => c.Seen?.RecordVersionNumber == crashed.RecordVersionNumber);
        var grant = calls.FirstOrDefault(c => c.Granted);
        if (firstSeen is null || grant is null || grant.Operation != "TakeOver" || grant.ObservedVersion != crashed.RecordVersionNumber)
        {
            return (SelfTestCheck.Fail(TakeoverAfterLease, $"the LockManager got the lock, but not by a takeover of the crashed holder's record version ({grant?.Operation ?? "no granting call"} after {(firstSeen is null ? "never seeing it" : "seeing it")})"), stored);
        }

        var waited = _clock.GetElapsedTime(firstSeen.AnsweredAt, grant.SentAt);
        var sinceHolder = _clock.GetElapsedTime(holderSentAt, grant.SentAt);
        var token = grant.Seen!.FencingToken;
        var figures =
            $"the LockManager sent its takeover {Seconds(waited)} after it first received the crashed holder's record, on its own monotonic clock " +
            $"(lease {Durations.Format(lease)}; it waits lease + drift allowance {Durations.Format(settings.DriftAllowance)} = {Durations.Format(needed)}), " +
            $"{Seconds(sinceHolder)} after the holder's write was sent; fencing token {crashed.FencingToken} -> {token}; " +
            $"the holder's wall clock was set {Durations.Format(CrashedHolderClockOffset.Duration())} behind and did not hurry it; the waiter's requests from its first acquire to its release: {requests}";
        return waited >= lease && token > crashed.FencingToken && tokenHeld == token
            ? (SelfTestCheck.Pass(TakeoverAfterLease, figures), stored)
            : (SelfTestCheck.Fail(TakeoverAfterLease, $"taken over too early or with a stale token: {figures}"), stored);
    }

    /// <summary>What the record holds (a lease as a duration, a version, no expiry time) and, for information only, the server's clock.</summary>
    private SelfTestCheck ClockFacts(LockRecord? stored)
    {
        var offset = _requests.Offset switch
        {
            null => "the server sent no HTTP Date header, so its clock offset is unknown",
            { Consistent: false } o => $"the server's HTTP Date headers ({o.Answers}) disagree by more than their one-second resolution, so its clock offset is unknown",
            { } o => $"the server's clock is {Signed(o.Estimate)} this machine's (+/- {Seconds(o.Uncertainty)}, from the HTTP Date headers of {o.Answers} answers)",
        };
        if (stored is not { LeaseDuration: { } leaseStored } || leaseStored != _options.Lease || string.IsNullOrEmpty(stored.RecordVersionNumber) || stored.ExpiresAt is not null)
        {
            return SelfTestCheck.Fail(ClockIndependence, $"the lock record does not hold what the protocol needs: {Describe(stored)}, expected lease {Durations.Format(_options.Lease)}, a record version and no expiry time");
        }

        return SelfTestCheck.Note(
            ClockIndependence,
            $"no timestamps are compared across machines: the lock record holds leaseDuration={(long)leaseStored.TotalMilliseconds} (a duration, ms) and a record version (a UUID), " +
            "not an expiry time; heartbeatAt is the writer's wall clock, for display only (the crashed holder's was an hour behind); " +
            $"every wait above was measured on this machine's monotonic clock. Informative, not used by the protocol: {offset}");
    }

    private SelfTestCheck Fencing(ConditionFigures conditions, SampleFigures samples)
    {
        var figures = $"{conditions.FirstToken} -> {conditions.TakenOverToken} (takeover) -> {conditions.ReacquiredToken} (release, acquire); " +
            $"{_options.Samples} rounds of acquire and release on another key: {samples.First} to {samples.Last}, each above the one before";
        var increasing = conditions.FirstToken < conditions.TakenOverToken && conditions.TakenOverToken < conditions.ReacquiredToken && samples.Decreases.Count == 0;
        return increasing
            ? SelfTestCheck.Pass(FencingTokens, figures)
            : SelfTestCheck.Fail(FencingTokens, $"not strictly increasing: {conditions.FirstToken} -> {conditions.TakenOverToken} (takeover) -> {conditions.ReacquiredToken} (release, acquire)" +
                (samples.Decreases.Count > 0 ? $"; samples: {string.Join(", ", samples.Decreases.Take(3))}" : string.Empty));
    }

    /// <summary>Releases (keeping the record) with a version chosen here, so that the read back can tell it; returns the release's round trip.</summary>
    private async Task<TimeSpan> ReleaseAsync(LockKey key, string owner, LockRecord held, string what, CancellationToken cancellationToken)
    {
        var version = Guid.NewGuid().ToString();
        var started = _clock.GetTimestamp();
        var result = await CountedAsync(_releases, () => _table.ReleaseAsync(new ReleaseLockRequest(key, owner, held.RecordVersionNumber) { NewRecordVersionNumber = version }, cancellationToken)).ConfigureAwait(false);
        var elapsed = _clock.GetElapsedTime(started);
        Expect<ReleaseResult.Released>(result, Release, what);
        await ReadBackAsync(key, owner, version, released: true, what, cancellationToken).ConfigureAwait(false);
        return elapsed;
    }

    /// <summary>Reads the record right after a write (a consistent read) and notes whether it shows that write.</summary>
    private async Task ReadBackAsync(LockKey key, string owner, string version, bool released, string after, CancellationToken cancellationToken)
    {
        var record = await _table.ReadAsync(key, cancellationToken).ConfigureAwait(false);
        _reads++;
        if (record is null || !record.IsWrittenBy(owner, version) || record.IsReleased != released)
        {
            _readMisses.Add($"after {after}: {Describe(record)}");
        }
    }

    /// <summary>Sends a write that must be refused, then reads the record: it must still be <paramref name="holder"/>'s.</summary>
    private async Task<TRefusal> ExpectRefusedAsync<TResult, TRefusal>(string check, string what, Func<Task<TResult>> write, LockKey key, LockRecord holder, CancellationToken cancellationToken)
        where TResult : class
        where TRefusal : class, TResult
    {
        var refusal = Expect<TRefusal>(await write().ConfigureAwait(false), check, what);
        var after = await _table.ReadAsync(key, cancellationToken).ConfigureAwait(false);
        if (after is null || after.IsReleased || !after.IsWrittenBy(holder.OwnerName, holder.RecordVersionNumber))
        {
            throw new SelfTestFailure(SelfTestCheck.Fail(check, $"{what} was refused, yet the record changed: {Describe(after)}"));
        }

        return refusal;
    }

    private async Task<T> CountedAsync<T>(RequestTally tally, Func<Task<T>> call)
    {
        _requests.Reset();
        var result = await call().ConfigureAwait(false);
        tally.Add(_requests.Counts);
        return result;
    }

    /// <summary>The result as <typeparamref name="T"/>, or a FAIL of <paramref name="check"/> that ends the run.</summary>
    private static T Expect<T>(object result, string check, string what)
        where T : class =>
        result as T ?? throw new SelfTestFailure(SelfTestCheck.Fail(check, $"{what}: expected {Outcome(typeof(T))}, got {Describe(result)}"));

    private string Owner(string role) => $"selftest-{_keys.RunId}-{role}";

    private static string Outcome(Type type) => type.Name switch
    {
        nameof(AcquireResult.Granted) => "granted",
        nameof(AcquireResult.Held) => "refused (held)",
        nameof(HeartbeatResult.Renewed) => "renewed",
        nameof(HeartbeatResult.Lost) => "refused (lost)",
        nameof(ReleaseResult.Released) => "released",
        nameof(ReleaseResult.NotHeld) => "refused (not held)",
        _ => type.Name,
    };

    private static string Describe(object? result) => result switch
    {
        null => "no record",
        AcquireResult.Granted g => $"granted (fencing token {g.Record.FencingToken})",
        AcquireResult.Held h => $"refused, held by {Describe(h.Holder)}",
        HeartbeatResult.Renewed => "renewed",
        HeartbeatResult.Lost => "refused (lost)",
        ReleaseResult.Released => "released",
        ReleaseResult.NotHeld => "refused (not held)",
        LockRecord r => $"'{r.OwnerName}' (fencing token {r.FencingToken}{(r.IsReleased ? ", released" : string.Empty)}, lease {(r.LeaseDuration is { } l ? Durations.Format(l) : "none")}{(r.ExpiresAt is { } e ? $", expiresAt {e:O}" : string.Empty)})",
        _ => result.GetType().Name,
    };

    private static string Seconds(TimeSpan value) => $"{value.TotalSeconds:0.000}s";

    private static string Signed(TimeSpan value) => value < TimeSpan.Zero ? $"{Seconds(value.Negate())} behind" : $"{Seconds(value)} ahead of";

    private sealed record ConditionFigures(string RefusedWhileHeld, string StaleWrites, string StaleTakeover, long FirstToken, long TakenOverToken, long ReacquiredToken);

    private sealed record SampleFigures(long First, long Last, IReadOnlyList<string> Decreases);
}
