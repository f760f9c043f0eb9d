using System.Diagnostics.Metrics;

namespace DynamoLock.Actors.Tests.Infrastructure;

/// <summary>
/// Sums what one counter of the library's meter records while it listens, from every thread of the process; with
/// <c>owner</c>, only the measurements tagged with that owner (tests run in parallel in one process).
/// </summary>
internal sealed class CounterListener : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _total;

    public CounterListener(string instrument, string? owner = null)
    {
        _listener.InstrumentPublished = (i, listener) =>
        {
            if (i.Meter.Name == LockMetrics.MeterName && i.Name == instrument)
            {
                listener.EnableMeasurementEvents(i);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (owner is null || Tagged(tags, owner))
            {
                Interlocked.Add(ref _total, value);
            }
        });
        _listener.Start();
    }

    public long Total => Interlocked.Read(ref _total);

    public void Dispose() => _listener.Dispose();

    private static bool Tagged(ReadOnlySpan<KeyValuePair<string, object?>> tags, string owner)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "owner" && Equals(tag.Value, owner))
            {
                return true;
            }
        }

        return false;
    }
}
