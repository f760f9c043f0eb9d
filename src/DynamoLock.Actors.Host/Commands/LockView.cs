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

    /// <summary>How long ago the holder's last write was, by its wall clock and ours (never negative); display only.</summary>
    public static TimeSpan? HeartbeatAge(LockRecord record, DateTimeOffset now) =>
        record.HeartbeatAt is { } at ? (now - at < TimeSpan.Zero ? TimeSpan.Zero : now - at) : null;

    /// <summary>Held, with a lease, and its last heartbeat older than the lease (see the remarks).</summary>
    public static bool IsStale(LockRecord record, DateTimeOffset now) =>
        record.IsHeld && record.LeaseDuration is { } lease && HeartbeatAge(record, now) is { } age && age > lease;

    public static string State(LockRecord record, DateTimeOffset now) =>
        record.IsReleased ? "released" : IsStale(record, now) ? "stale" : "held";

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

    public static LockJson ToJson(LockRecord record, DateTimeOffset now, bool withData = false)
    {
        var data = withData ? Data(record) : null;
        return new(
            record.Key.Key,
            record.Key.SortKey,
            State(record, now),
            record.OwnerName,
            record.FencingToken,
            record.LeaseDuration?.TotalMilliseconds,
            HeartbeatAge(record, now)?.TotalMilliseconds,
            record.Data.Length,
            data?.Text,
            data?.Encoding,
            record.RecordVersionNumber);
    }

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Json);

    public static Spectre.Console.Table Table(IEnumerable<LockRecord> records, DateTimeOffset now)
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
                State(record, now) switch { "released" => "[grey]released[/]", "stale" => "[yellow]stale[/]", _ => "[green]held[/]" },
                Markup.Escape(record.OwnerName),
                record.FencingToken.ToString(CultureInfo.InvariantCulture),
                record.LeaseDuration is { } lease ? Durations.Format(lease) : "[yellow]fail-closed[/]",
                HeartbeatAge(record, now) is { } age ? Durations.FormatAge(age) : string.Empty,
                $"{record.Data.Length} B");
        }

        return table;
    }

    /// <summary>
    /// The records as tab-separated lines with a header, for pipes (when standard output is not a terminal): no wrapping,
    /// no borders, one record a line, durations in milliseconds.
    /// </summary>
    public static IEnumerable<string> TabSeparated(IEnumerable<LockRecord> records, DateTimeOffset now)
    {
        yield return "key\tstate\towner\tfencingToken\tleaseMs\theartbeatAgeMs\tdataBytes";
        foreach (var record in records)
        {
            yield return string.Join('\t', new[]
            {
                Clean(record.Key.ToString()),
                State(record, now),
                Clean(record.OwnerName),
                record.FencingToken.ToString(CultureInfo.InvariantCulture),
                record.LeaseDuration is { } lease ? lease.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) : "-",
                HeartbeatAge(record, now) is { } age ? age.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) : "-",
                record.Data.Length.ToString(CultureInfo.InvariantCulture),
            });
        }

        // A tab or newline inside a key or owner would break the columns.
        static string Clean(string value) => value.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');
    }

    /// <summary>One record in detail, as field/value rows.</summary>
    public static Grid Details(LockRecord record, DateTimeOffset now)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        void Row(string field, string markup) => grid.AddRow(new Markup($"[grey]{field}[/]"), new Markup(markup));
        Row("key", Markup.Escape(record.Key.ToString()));
        Row("state", State(record, now) switch { "released" => "[grey]released[/]", "stale" => "[yellow]stale[/]", _ => "[green]held[/]" });
        Row(record.IsReleased ? "last owner" : "owner", Markup.Escape(record.OwnerName));
        Row("fencing token", record.FencingToken.ToString(CultureInfo.InvariantCulture));
        Row("lease", record.LeaseDuration is { } lease ? Durations.Format(lease) : "[yellow]fail-closed[/] (never expires; only a release frees it)");
        Row("heartbeat age", HeartbeatAge(record, now) is { } age ? $"{Durations.FormatAge(age)} (wall clock)" : "-");
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
        string RecordVersionNumber);
}
