using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using DynamoLock.Actors.Table;
using Spectre.Console;

namespace DynamoLock.Actors.Host.Commands;

/// <summary>How <c>list</c>, <c>inspect</c> and <c>watch</c> show lock records: a table, tab-separated lines, or JSON.</summary>
/// <remarks>
/// A record is shown as <c>stale</c> when it is held and its last heartbeat is older than its lease. That compares the
/// holder's wall clock (heartbeatAt) with this machine's, so it is a display hint only: the lock is still held until a
/// waiter has watched the same record version for the lease plus the drift allowance and taken it over.
/// </remarks>
internal static class LockView
{
    /// <summary>Said once wherever a stale record is shown.</summary>
    public const string StaleNote =
        "stale: held, but its last heartbeat is older than its lease by the wall clocks (a display hint): the holder may be gone. " +
        "It stays held until a waiter, watching it unchanged for the lease + drift allowance, takes it over.";

    // Relaxed escaping: the JSON goes to a terminal or a pipe, never into HTML, and keys and data read as written ("ö", "+").
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Splits a listing into lock records and session records (by key), sessions being records under <see cref="LockSessions.KeyPrefix"/>.</summary>
    public static (List<LockRecord> Locks, Dictionary<string, LockRecord> Sessions) Split(IEnumerable<LockRecord> records)
    {
        var locks = new List<LockRecord>();
        var sessions = new Dictionary<string, LockRecord>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            if (LockSessions.IsSessionKey(record.Key.Key))
            {
                sessions[record.Key.Key] = record;
            }
            else
            {
                locks.Add(record);
            }
        }

        return (locks, sessions);
    }

    /// <summary>
    /// The record whose heartbeat says whether the holder is alive: the lock's own, or for a lock held under a session
    /// (see <c>docs/sessions.md</c>) its session's, when the session record is known.
    /// </summary>
    private static LockRecord Liveness(LockRecord record, IReadOnlyDictionary<string, LockRecord>? sessions) =>
        record.SessionKey is { } key && sessions?.GetValueOrDefault(key) is { } session ? session : record;

    /// <summary>Whether <paramref name="record"/> is held under a session that was expired or is gone: any waiter takes it over at once.</summary>
    private static bool SessionEnded(LockRecord record, IReadOnlyDictionary<string, LockRecord>? sessions) =>
        record is { IsHeld: true, SessionKey: { } key } && sessions is not null && sessions.GetValueOrDefault(key) is null or { IsReleased: true };

    /// <summary>How long ago the holder's last write was (its session's, for a session-held lock), by its wall clock and ours (never negative); display only.</summary>
    public static TimeSpan? HeartbeatAge(LockRecord record, DateTimeOffset now, IReadOnlyDictionary<string, LockRecord>? sessions = null) =>
        Liveness(record, sessions).HeartbeatAt is { } at ? (now - at < TimeSpan.Zero ? TimeSpan.Zero : now - at) : null;

    /// <summary>Held, with a lease, and its last heartbeat older than the lease (its session's, for a session-held lock; see the remarks).</summary>
    public static bool IsStale(LockRecord record, DateTimeOffset now, IReadOnlyDictionary<string, LockRecord>? sessions = null) =>
        record.IsHeld && Liveness(record, sessions).LeaseDuration is { } lease && HeartbeatAge(record, now, sessions) is { } age && age > lease;

    /// <summary>released, expired (held under a session that ended: free to take over), stale or held.</summary>
    public static string State(LockRecord record, DateTimeOffset now, IReadOnlyDictionary<string, LockRecord>? sessions = null) =>
        record.IsReleased ? "released" : SessionEnded(record, sessions) ? "expired" : IsStale(record, now, sessions) ? "stale" : "held";

    /// <summary>The lease as shown: the lock's, its session's for a session-held lock, or fail-closed.</summary>
    private static string Lease(LockRecord record, IReadOnlyDictionary<string, LockRecord>? sessions, bool markup) =>
        record.SessionKey is { } key
            ? $"session {(sessions?.GetValueOrDefault(key)?.LeaseDuration is { } sessionLease ? Durations.Format(sessionLease) : "?")}"
            : record.LeaseDuration is { } lease ? Durations.Format(lease) : markup ? "[yellow]fail-closed[/]" : "fail-closed";

    private static string StateMarkup(string state) => state switch
    {
        "released" => "[grey]released[/]",
        "stale" => "[yellow]stale[/]",
        "expired" => "[yellow]expired[/]",
        _ => "[green]held[/]",
    };

    /// <summary>The data as text when it is valid UTF-8, else base64; and which of the two it is.</summary>
    public static (string Text, string Encoding)? Data(LockRecord record)
    {
        if (record.Data.IsEmpty)
        {
            return null;
        }

        try
        {
            return (StrictUtf8.GetString(record.Data.Span), "utf8");
        }
        catch (DecoderFallbackException)
        {
            return (Convert.ToBase64String(record.Data.Span), "base64");
        }
    }

    public static LockJson ToJson(LockRecord record, DateTimeOffset now, bool withData = false, IReadOnlyDictionary<string, LockRecord>? sessions = null)
    {
        var data = withData ? Data(record) : null;
        return new(
            record.Key.Key,
            record.Key.SortKey,
            State(record, now, sessions),
            record.OwnerName,
            record.FencingToken,
            Liveness(record, sessions).LeaseDuration?.TotalMilliseconds,
            HeartbeatAge(record, now, sessions)?.TotalMilliseconds,
            record.Data.Length,
            data?.Text,
            data?.Encoding,
            record.RecordVersionNumber,
            record.SessionKey);
    }

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Json);

    public static Spectre.Console.Table Table(IEnumerable<LockRecord> records, DateTimeOffset now, IReadOnlyDictionary<string, LockRecord>? sessions = null)
    {
        var table = new Spectre.Console.Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "key", "state", "owner", "fencing token", "lease", "heartbeat age", "data" })
        {
            table.AddColumn(column);
        }

        foreach (var record in records)
        {
            table.AddRow(
                Markup.Escape(record.Key.ToString()),
                StateMarkup(State(record, now, sessions)),
                Markup.Escape(record.OwnerName),
                record.FencingToken.ToString(CultureInfo.InvariantCulture),
                Lease(record, sessions, markup: true),
                HeartbeatAge(record, now, sessions) is { } age ? Durations.FormatAge(age) : string.Empty,
                $"{record.Data.Length} B");
        }

        return table;
    }

    /// <summary>
    /// The records as tab-separated lines with a header, for pipes (when standard output is not a terminal): no wrapping,
    /// no borders, one record a line, durations in milliseconds.
    /// </summary>
    public static IEnumerable<string> TabSeparated(IEnumerable<LockRecord> records, DateTimeOffset now, IReadOnlyDictionary<string, LockRecord>? sessions = null)
    {
        yield return "key\tstate\towner\tfencingToken\tleaseMs\theartbeatAgeMs\tdataBytes\tsession";
        foreach (var record in records)
        {
            yield return string.Join('\t', new[]
            {
                Clean(record.Key.ToString()),
                State(record, now, sessions),
                Clean(record.OwnerName),
                record.FencingToken.ToString(CultureInfo.InvariantCulture),
                Liveness(record, sessions).LeaseDuration is { } lease ? lease.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) : "-",
                HeartbeatAge(record, now, sessions) is { } age ? age.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) : "-",
                record.Data.Length.ToString(CultureInfo.InvariantCulture),
                record.SessionKey is { } session ? Clean(session) : "-",
            });
        }

        // A tab or newline inside a key or owner would break the columns.
        static string Clean(string value) => value.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');
    }

    /// <summary>One record in detail, as field/value rows.</summary>
    public static Grid Details(LockRecord record, DateTimeOffset now, IReadOnlyDictionary<string, LockRecord>? sessions = null)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        void Row(string field, string markup) => grid.AddRow(new Markup($"[grey]{field}[/]"), new Markup(markup));
        Row("key", Markup.Escape(record.Key.ToString()));
        Row("state", StateMarkup(State(record, now, sessions)));
        Row(record.IsReleased ? "last owner" : "owner", Markup.Escape(record.OwnerName));
        Row("fencing token", record.FencingToken.ToString(CultureInfo.InvariantCulture));
        Row("lease", record.SessionKey is not null || record.LeaseDuration is not null ? Lease(record, sessions, markup: true) : "[yellow]fail-closed[/] (never expires; only a release frees it)");
        if (record.SessionKey is { } sessionKey)
        {
            Row("session", Markup.Escape(sessionKey) + (SessionEnded(record, sessions) ? " [yellow](expired or gone: free to take over)[/]" : string.Empty));
        }

        Row("heartbeat age", HeartbeatAge(record, now, sessions) is { } age ? $"{Durations.FormatAge(age)} (wall clock{(record.SessionKey is null ? string.Empty : ", the session's")})" : "-");
        Row("record version", Markup.Escape(record.RecordVersionNumber));
        Row("data", Data(record) is { } data ? $"{record.Data.Length} B, {(data.Encoding == "utf8" ? "text" : "base64")}: {Markup.Escape(data.Text)}" : "none");
        return grid;
    }

    /// <summary>One lock record in JSON. Heartbeat age uses the record's wall-clock heartbeatAt: for display only.</summary>
    internal sealed record LockJson(
        string Key,
        string? SortKey,
        string State,
        string Owner,
        long FencingToken,
        double? LeaseMs,
        double? HeartbeatAgeMs,
        int DataBytes,
        string? Data,
        string? DataEncoding,
        string RecordVersionNumber,
        string? Session);

    /// <summary>The session records as a table: state (live, stale or expired), owner, lease, heartbeat age and the locks held under each.</summary>
    public static Spectre.Console.Table SessionTable(IReadOnlyDictionary<string, LockRecord> sessions, IReadOnlyList<LockRecord> locks, DateTimeOffset now)
    {
        var table = new Spectre.Console.Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "session", "state", "owner", "lease", "heartbeat age", "locks held" })
        {
            table.AddColumn(column);
        }

        foreach (var (key, session) in sessions.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            table.AddRow(
                Markup.Escape(key),
                SessionState(session, now) switch { "expired" => "[grey]expired[/]", "stale" => "[yellow]stale[/]", _ => "[green]live[/]" },
                Markup.Escape(session.OwnerName),
                session.LeaseDuration is { } lease ? Durations.Format(lease) : "-",
                HeartbeatAge(session, now) is { } age ? Durations.FormatAge(age) : string.Empty,
                HeldUnder(key, locks).ToString(CultureInfo.InvariantCulture));
        }

        return table;
    }

    /// <summary>The session records as tab-separated lines with a header (durations in ms).</summary>
    public static IEnumerable<string> SessionLines(IReadOnlyDictionary<string, LockRecord> sessions, IReadOnlyList<LockRecord> locks, DateTimeOffset now)
    {
        yield return "session\tstate\towner\tleaseMs\theartbeatAgeMs\tlocksHeld";
        foreach (var (key, session) in sessions.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            yield return string.Join('\t', new[]
            {
                key,
                SessionState(session, now),
                session.OwnerName,
                session.LeaseDuration is { } lease ? lease.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) : "-",
                HeartbeatAge(session, now) is { } age ? age.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) : "-",
                HeldUnder(key, locks).ToString(CultureInfo.InvariantCulture),
            });
        }
    }

    /// <summary>live, stale (its heartbeat is older than its lease by the wall clocks) or expired (released by a waiter or its node).</summary>
    public static string SessionState(LockRecord session, DateTimeOffset now) =>
        session.IsReleased ? "expired" : IsStale(session, now) ? "stale" : "live";

    private static int HeldUnder(string sessionKey, IReadOnlyList<LockRecord> locks) =>
        locks.Count(l => l.IsHeld && string.Equals(l.SessionKey, sessionKey, StringComparison.Ordinal));
}
