using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace DynamoLock.Actors.Chaos;

/// <summary>What one client saw or did, at a moment of the run's single monotonic clock (milliseconds since its start).</summary>
/// <param name="AtMs">When, in milliseconds since the run started.</param>
/// <param name="Client">The client (node) and worker.</param>
/// <param name="Kind">acquire, granted, not-acquired, lost, store-acked, store-failed, release, released, write-accepted, write-rejected.</param>
/// <param name="Key">The lock.</param>
/// <param name="Token">The fencing token involved, if any.</param>
/// <param name="Value">The counter value read at a grant or stored, if any.</param>
/// <param name="Detail">A reason or note.</param>
public sealed record HistoryEvent(double AtMs, string Client, string Kind, string Key, long? Token = null, long? Value = null, string? Detail = null);

/// <summary>The history of a run: every client's events, appended concurrently, on one clock.</summary>
public sealed class History
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };
    private readonly ConcurrentQueue<HistoryEvent> _events = new();
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly Func<double>? _clock;
    private readonly Action<HistoryEvent>? _sink;

    /// <summary>A history on this process's monotonic clock (milliseconds since the run started).</summary>
    public History()
    {
    }

    /// <summary>A history on another clock (e.g. the machine's wall clock, shared by worker processes), passing every event to <paramref name="sink"/>.</summary>
    public History(Func<double> clock, Action<HistoryEvent>? sink = null)
    {
        _clock = clock;
        _sink = sink;
    }

    /// <summary>The machine's wall clock in milliseconds: comparable between processes on one machine.</summary>
    public static double WallClockMs => DateTime.UtcNow.Ticks / (double)TimeSpan.TicksPerMillisecond;

    /// <summary>Now, on this history's clock.</summary>
    public double Now => _clock?.Invoke() ?? Stopwatch.GetElapsedTime(_start).TotalMilliseconds;

    /// <summary>Adds an event recorded elsewhere (by a worker process).</summary>
    public void Add(HistoryEvent e) => _events.Enqueue(e);

    /// <summary>One event as a JSON line.</summary>
    public static string ToJson(HistoryEvent e) => JsonSerializer.Serialize(e, Json);

    /// <summary>An event from a JSON line, or <see langword="null"/> when the line is not one.</summary>
    public static HistoryEvent? FromJson(string line)
    {
        try
        {
            return JsonSerializer.Deserialize<HistoryEvent>(line, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The events so far, in the order they were recorded.</summary>
    public IReadOnlyList<HistoryEvent> Events => _events.ToArray();

    /// <summary>Records an event now.</summary>
    public void Record(string client, string kind, string key, long? token = null, long? value = null, string? detail = null)
    {
        var e = new HistoryEvent(Now, client, kind, key, token, value, detail);
        _events.Enqueue(e);
        _sink?.Invoke(e);
    }

    /// <summary>Writes the history as JSON lines.</summary>
    public async Task WriteJsonLinesAsync(string path, CancellationToken cancellationToken = default)
    {
        await using var writer = new StreamWriter(path);
        foreach (var e in _events.OrderBy(e => e.AtMs))
        {
            await writer.WriteLineAsync(ToJson(e).AsMemory(), cancellationToken).ConfigureAwait(false);
        }
    }
}
