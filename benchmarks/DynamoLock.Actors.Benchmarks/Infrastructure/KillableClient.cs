using DynamoLock.Actors.Chaos;

namespace DynamoLock.Actors.Benchmarks.Infrastructure;

/// <summary>
/// Counts a node's DynamoDB requests and can cut the node off for good: from <see cref="Kill"/> on, every request fails
/// before it leaves, so nothing of the node lands any more (no heartbeat, no release), as after a SIGKILL.
/// </summary>
internal sealed class KillableClient : RequestCounter
{
    private volatile bool _killed;

    /// <summary>Cuts the node off from the table.</summary>
    public void Kill() => _killed = true;

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(string operation, Func<CancellationToken, Task<HttpResponseMessage>> send, CancellationToken cancellationToken) =>
        _killed ? Task.FromException<HttpResponseMessage>(new HttpRequestException($"{operation} not sent: the benchmark killed this node.")) : send(cancellationToken);
}
