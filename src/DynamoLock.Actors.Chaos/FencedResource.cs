using System.Collections.Concurrent;

namespace DynamoLock.Actors.Chaos;

/// <summary>
/// An external resource protected by the locks: it accepts a write only with a fencing token at least as high as any
/// it has seen for the key, as a real store would to reject a holder that lost its lock without noticing.
/// </summary>
public sealed class FencedResource
{
    private readonly ConcurrentDictionary<string, long> _highest = new(StringComparer.Ordinal);
    private long _accepted;
    private long _rejected;

    /// <summary>Writes accepted so far.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Writes rejected so far (stale tokens).</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Writes with <paramref name="fencingToken"/>; false when a higher token was seen already.</summary>
    public bool Write(string key, long fencingToken)
    {
        var accepted = false;
        _highest.AddOrUpdate(
            key,
            _ =>
            {
                accepted = true;
                return fencingToken;
            },
            (_, highest) =>
            {
                accepted = fencingToken >= highest;
                return accepted ? fencingToken : highest;
            });
        Interlocked.Increment(ref accepted ? ref _accepted : ref _rejected);
        return accepted;
    }
}
