using System.Collections.Concurrent;

namespace DynamoLock.Actors.Host.Demo;

/// <summary>
/// The resource the demo's locks protect: it accepts a write only with a fencing token at least as high as any it has
/// seen for that key, which is how a real store rejects a holder that lost its lock without noticing.
/// </summary>
internal sealed class FencedResource
{
    private readonly ConcurrentDictionary<string, long> _highest = new(StringComparer.Ordinal);
    private long _accepted;
    private long _rejected;

    public long Accepted => Interlocked.Read(ref _accepted);

    public long Rejected => Interlocked.Read(ref _rejected);

    public bool Write(string key, long fencingToken)
    {
        var ok = false;
        _highest.AddOrUpdate(key, _ => { ok = true; return fencingToken; }, (_, highest) =>
        {
            ok = fencingToken >= highest;
            return ok ? fencingToken : highest;
        });
        Interlocked.Increment(ref ok ? ref _accepted : ref _rejected);
        return ok;
    }
}
