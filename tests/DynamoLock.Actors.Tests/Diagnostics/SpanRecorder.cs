using System.Collections.Concurrent;
using System.Diagnostics;

namespace DynamoLock.Actors.Tests.Diagnostics;

/// <summary>
/// Listens to the library's activity source (and the test's own) and keeps the spans that ended. The listener is
/// process-wide, so tests in parallel also make spans: read only those of your own keys.
/// </summary>
public sealed class SpanRecorder : IDisposable
{
    public const string TestSourceName = "DynamoLock.Actors.Tests";

    public static readonly ActivitySource TestSource = new(TestSourceName);

    private readonly ConcurrentQueue<Activity> _ended = new();
    private readonly ActivityListener _listener;

    public SpanRecorder()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is DynamoLockDiagnostics.ActivitySourceName or TestSourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _ended.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The library's ended spans about <paramref name="key"/>.</summary>
    public IReadOnlyList<Activity> Of(string key) =>
        _ended.Where(a => a.Source.Name == DynamoLockDiagnostics.ActivitySourceName && Equals(a.GetTagItem("dynamolock.key"), key)).ToList();

    /// <summary>The one ended span named <paramref name="name"/> about <paramref name="key"/> (and owned by <paramref name="owner"/>, when given).</summary>
    public Activity Single(string key, string name, string? owner = null) =>
        Of(key).Single(a => a.OperationName == name && (owner is null || Equals(a.GetTagItem("dynamolock.owner"), owner)));

    public void Dispose() => _listener.Dispose();
}
