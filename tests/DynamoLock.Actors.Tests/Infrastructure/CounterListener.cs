using System.Diagnostics.Metrics;

namespace DynamoLock.Actors.Tests.Infrastructure;

/// <summary>Sums what one counter of the library's meter records while it listens, from every thread of the process.</summary>
internal sealed class CounterListener : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _total;

    public CounterListener(string instrument)
    {
        _listener.InstrumentPublished = (i, listener) =>
        {
            if (i.Meter.Name == LockMetrics.MeterName && i.Name == instrument)
            {
                listener.EnableMeasurementEvents(i);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
        _listener.Start();
    }

    public long Total => Interlocked.Read(ref _total);

    public void Dispose() => _listener.Dispose();
}
