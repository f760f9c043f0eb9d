using System.Collections.Concurrent;
using System.Net;
using System.Text;
using DynamoLock.Actors.Chaos;

namespace DynamoLock.Actors.Tests.Infrastructure;

/// <summary>What happens to a request that a fault is armed for.</summary>
public enum HttpFault
{
    /// <summary>The request reaches the server and is applied, but the response never arrives (a timeout after sending).</summary>
    LoseResponse,

    /// <summary>The connection drops before the request is sent: the server never sees it.</summary>
    DropBeforeSending,

    /// <summary>The server answers 400 ProvisionedThroughputExceededException without applying the request.</summary>
    Throttle,

    /// <summary>The server answers 500 InternalServerError without applying the request.</summary>
    ServerError,
}

/// <summary>
/// Counts a DynamoDB client's requests and disturbs chosen ones at the HTTP layer, so tests can show how the lock table
/// behaves when the network or the server misbehaves, against the real local server.
/// </summary>
public sealed class FaultInjector : RequestCounter
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<HttpFault>> _armed = new(StringComparer.Ordinal);

    /// <summary>Disturbs the next <paramref name="times"/> requests of <paramref name="operation"/> with <paramref name="fault"/>.</summary>
    public void Arm(string operation, HttpFault fault, int times = 1)
    {
        var queue = _armed.GetOrAdd(operation, _ => new ConcurrentQueue<HttpFault>());
        for (var i = 0; i < times; i++)
        {
            queue.Enqueue(fault);
        }
    }

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(string operation, Func<CancellationToken, Task<HttpResponseMessage>> send, CancellationToken cancellationToken)
    {
        if (!_armed.TryGetValue(operation, out var queue) || !queue.TryDequeue(out var fault))
        {
            return await send(cancellationToken).ConfigureAwait(false);
        }

        switch (fault)
        {
            case HttpFault.LoseResponse:
                using (var response = await send(cancellationToken).ConfigureAwait(false))
                {
                    await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                }

                throw new HttpRequestException($"Injected fault: the response to {operation} was lost after the server applied it.");
            case HttpFault.DropBeforeSending:
                throw new HttpRequestException($"Injected fault: the connection dropped before {operation} was sent.");
            case HttpFault.Throttle:
                return Error(HttpStatusCode.BadRequest, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", "Injected fault: throughput exceeded.");
            case HttpFault.ServerError:
                return Error(HttpStatusCode.InternalServerError, "com.amazonaws.dynamodb.v20120810#InternalServerError", "Injected fault: internal server error.");
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault, null);
        }
    }

    private static HttpResponseMessage Error(HttpStatusCode status, string type, string message) =>
        new(status)
        {
            Content = new StringContent($"{{\"__type\":\"{type}\",\"message\":\"{message}\"}}", Encoding.UTF8, "application/x-amz-json-1.0"),
        };
}
