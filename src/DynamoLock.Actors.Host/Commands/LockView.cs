using System.Text.Json;
using System.Text.Json.Serialization;
using DynamoLock.Actors.Table;
using Spectre.Console;

namespace DynamoLock.Actors.Host.Commands;

/// <summary>How <c>list</c>, <c>inspect</c> and <c>watch</c> show lock records, as text or JSON.</summary>
internal static class LockView
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static LockJson ToJson(LockRecord record, DateTimeOffset now) => new(
        record.Key.Key,
        record.Key.SortKey,
        record.IsReleased ? "released" : "held",
        record.OwnerName,
        record.FencingToken,
        record.LeaseDuration?.TotalMilliseconds,
        record.HeartbeatAt is { } at ? Math.Max(0, (now - at).TotalMilliseconds) : null,
        record.Data.Length,
        record.RecordVersionNumber);

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
                record.IsReleased ? "[grey]released[/]" : "[green]held[/]",
                Markup.Escape(record.OwnerName),
                record.FencingToken.ToString(System.Globalization.CultureInfo.InvariantCulture),
                record.LeaseDuration is { } lease ? Durations.Format(lease) : "[yellow]fail-closed[/]",
                record.HeartbeatAt is { } at ? Durations.Format(now - at < TimeSpan.Zero ? TimeSpan.Zero : now - at) : "",
                $"{record.Data.Length} B");
        }

        return table;
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
        string RecordVersionNumber);
}
