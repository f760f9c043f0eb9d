using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using DynamoLock.Actors.Benchmarks.Report;

namespace DynamoLock.Actors.Benchmarks.Infrastructure;

/// <summary>
/// Splits a cross-node hand-off with notices into its parts, from the library's own metrics (both nodes run in this
/// process, so their measurements share one monotonic clock): the release write, the notice on its way, the acquire write,
/// and the actor hops between them. A measurement is taken when it is recorded: a table call's latency just before its
/// answer is told to the lock actor, a notice sent just after it was handed to Akka.Remote, one received when its lock
/// actor receives it.
/// </summary>
internal sealed class HandOffTimeline : IDisposable
{
    /// <summary>The parts, in the order a hand-off goes through them.</summary>
    public static readonly string[] PartNames =
    [
        "release sent to the release write",
        "release write (node 1)",
        "release answer to notice sent",
        "notice over Akka.Remote",
        "notice received to acquire write",
        "acquire write (node 2)",
        "acquire answer to grant received",
    ];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(long At, string What, double Value)> _events = new();
    private readonly List<double>[] _parts = PartNames.Select(_ => new List<double>()).ToArray();

    public HandOffTimeline()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == DynamoLockDiagnostics.MeterName && instrument.Name is "dynamolock.table.duration" or "dynamolock.notices_sent" or "dynamolock.notices_received")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "operation" && tag.Value is string operation)
                {
                    _events.Enqueue((Timing.Now(), operation, value));
                }
            }
        });
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => _events.Enqueue((Timing.Now(), instrument.Name, value)));
        _listener.Start();
    }

    /// <summary>Forgets what was recorded so far: call it just before the release is sent.</summary>
    public void Begin() => _events.Clear();

    /// <summary>Splits the hand-off from <paramref name="released"/> to <paramref name="granted"/>; false when a part is missing.</summary>
    public bool Take(long released, long granted)
    {
        var events = _events.ToArray();
        var release = events.FirstOrDefault(e => e.What == "release" && e.At >= released);
        var sent = events.FirstOrDefault(e => e.What == "dynamolock.notices_sent" && e.At >= release.At);
        var received = events.FirstOrDefault(e => e.What == "dynamolock.notices_received" && e.At >= sent.At);
        var acquire = events.FirstOrDefault(e => e.What == "acquire" && e.At >= received.At);
        if (release.What is null || sent.What is null || received.What is null || acquire.What is null || acquire.At > granted)
        {
            return false;
        }

        double Between(long from, long to) => Timing.MillisecondsBetween(from, to);
        _parts[0].Add(Between(released, release.At) - release.Value);
        _parts[1].Add(release.Value);
        _parts[2].Add(Between(release.At, sent.At));
        _parts[3].Add(Between(sent.At, received.At));
        _parts[4].Add(Between(received.At, acquire.At) - acquire.Value);
        _parts[5].Add(acquire.Value);
        _parts[6].Add(Between(acquire.At, granted));
        return true;
    }

    /// <summary>Each part's latency over the hand-offs taken.</summary>
    public IReadOnlyList<HandOffPart> Parts() => PartNames.Select((name, i) => new HandOffPart(name, LatencySummary.Of(_parts[i]))).ToArray();

    public void Dispose() => _listener.Dispose();
}
