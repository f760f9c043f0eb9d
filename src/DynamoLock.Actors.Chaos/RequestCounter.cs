using System.Collections.Concurrent;
using Amazon.Runtime;

namespace DynamoLock.Actors.Chaos;

/// <summary>
/// Counts the HTTP requests a DynamoDB client sends, by operation (<c>UpdateItem</c>, <c>GetItem</c>, …), SDK retries included.
/// Plug it in as the client's <see cref="ClientConfig.HttpClientFactory"/>.
/// </summary>
public class RequestCounter : HttpClientFactory
{
    private const string TargetPrefix = "DynamoDB_20120810.";
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    /// <summary>Requests by operation since the last <see cref="Reset"/>.</summary>
    public IReadOnlyDictionary<string, int> Counts => new Dictionary<string, int>(_counts, StringComparer.Ordinal);

    /// <summary>All requests since the last <see cref="Reset"/>.</summary>
    public int Total => _counts.Values.Sum();

    /// <summary>Requests of one operation since the last <see cref="Reset"/>.</summary>
    public int this[string operation] => _counts.GetValueOrDefault(operation);

    /// <summary>Forgets the counts.</summary>
    public void Reset() => _counts.Clear();

    /// <inheritdoc />
    public override HttpClient CreateHttpClient(IClientConfig clientConfig) =>
        new(new CountingHandler(this, new SocketsHttpHandler())) { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>
    /// Lets the AWS SDK keep and reuse the HttpClient it gets, as it does with its own: requests still go through the
    /// counting handler. Without it the SDK asked for a new HttpClient, so a new connection, for every request, and never
    /// disposed them: a TCP handshake inside every round trip a test or benchmark timed, and sockets left behind.
    /// </summary>
    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => true;

    /// <inheritdoc />
    public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

    /// <summary>A readable summary such as <c>UpdateItem=1, GetItem=1</c>.</summary>
    public override string ToString() => string.Join(", ", _counts.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));

    /// <summary>Sends one counted request; subclasses may disturb it.</summary>
    /// <param name="operation">The DynamoDB operation, such as <c>UpdateItem</c>.</param>
    /// <param name="send">Sends the request to the server.</param>
    /// <param name="cancellationToken">The request's cancellation.</param>
    protected virtual Task<HttpResponseMessage> SendAsync(string operation, Func<CancellationToken, Task<HttpResponseMessage>> send, CancellationToken cancellationToken) =>
        send(cancellationToken);

    private sealed class CountingHandler(RequestCounter counter, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var target = request.Headers.TryGetValues("X-Amz-Target", out var values) ? values.FirstOrDefault() ?? "?" : "?";
            var operation = target.StartsWith(TargetPrefix, StringComparison.Ordinal) ? target[TargetPrefix.Length..] : target;
            counter._counts.AddOrUpdate(operation, 1, (_, count) => count + 1);
            return counter.SendAsync(operation, token => base.SendAsync(request, token), cancellationToken);
        }
    }
}
