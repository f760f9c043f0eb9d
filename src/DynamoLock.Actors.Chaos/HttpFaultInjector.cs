using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Amazon.Runtime;

namespace DynamoLock.Actors.Chaos;

/// <summary>
/// A DynamoDB client's HTTP pipeline with seeded random faults (<see cref="FaultPlan"/>) and partitions, counted by kind.
/// Plug it in as <see cref="ClientConfig.HttpClientFactory"/>; one per client, each with its own seed.
/// </summary>
public sealed class HttpFaultInjector : HttpClientFactory
{
    private readonly FaultPlan _plan;
    private readonly Random _random;
    private readonly object _randomGate = new();
    private readonly ConcurrentDictionary<FaultKind, int> _counts = new();
    private long _partitionedUntil;

    /// <summary>Creates the injector.</summary>
    public HttpFaultInjector(FaultPlan plan, int seed)
    {
        _plan = plan ?? throw new ArgumentNullException(nameof(plan));
        _random = new Random(seed);
    }

    /// <summary>Faults injected so far, by kind.</summary>
    public IReadOnlyDictionary<FaultKind, int> Counts => new Dictionary<FaultKind, int>(_counts);

    /// <summary>Whether faults are injected at all (a run turns them off to let its clients finish cleanly).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Fails every request of this client for <paramref name="duration"/>.</summary>
    public void Partition(TimeSpan duration) =>
        Interlocked.Exchange(ref _partitionedUntil, TimeProvider.System.GetTimestamp() + (long)(duration.TotalSeconds * TimeProvider.System.TimestampFrequency));

    /// <inheritdoc />
    public override HttpClient CreateHttpClient(IClientConfig clientConfig) =>
        new(new FaultHandler(this, new SocketsHttpHandler())) { Timeout = Timeout.InfiniteTimeSpan };

    /// <inheritdoc />
    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

    /// <inheritdoc />
    public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

    private double Next()
    {
        lock (_randomGate)
        {
            return _random.NextDouble();
        }
    }

    private FaultKind? Choose()
    {
        if (!Enabled)
        {
            return null;
        }

        if (TimeProvider.System.GetTimestamp() < Interlocked.Read(ref _partitionedUntil))
        {
            return FaultKind.Partitioned;
        }

        var roll = Next();
        foreach (var (kind, p) in new[]
                 {
                     (FaultKind.LoseResponse, _plan.LoseResponse), (FaultKind.DropBeforeSending, _plan.DropBeforeSending),
                     (FaultKind.ServerError, _plan.ServerError), (FaultKind.Throttle, _plan.Throttle),
                     (FaultKind.LatencySpike, _plan.LatencySpike), (FaultKind.Latency, _plan.Latency),
                 })
        {
            if (roll < p)
            {
                return kind;
            }

            roll -= p;
        }

        return null;
    }

    private sealed class FaultHandler(HttpFaultInjector injector, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var fault = injector.Choose();
            if (fault is { } kind)
            {
                injector._counts.AddOrUpdate(kind, 1, (_, n) => n + 1);
            }

            switch (fault)
            {
                case FaultKind.Latency:
                    await Task.Delay(TimeSpan.FromMilliseconds(1 + (injector.Next() * 19)), cancellationToken).ConfigureAwait(false);
                    break;
                case FaultKind.LatencySpike:
                    await Task.Delay(TimeSpan.FromMilliseconds(200 + (injector.Next() * 600)), cancellationToken).ConfigureAwait(false);
                    break;
                case FaultKind.ServerError:
                    return Error(injector.Next() < 0.5 ? HttpStatusCode.InternalServerError : HttpStatusCode.ServiceUnavailable, "InternalServerError");
                case FaultKind.Throttle:
                    return Error(HttpStatusCode.BadRequest, "ProvisionedThroughputExceededException");
                case FaultKind.DropBeforeSending or FaultKind.Partitioned:
                    throw new HttpRequestException($"Injected fault: {fault}.");
                case FaultKind.LoseResponse:
                    using (var applied = await base.SendAsync(request, cancellationToken).ConfigureAwait(false))
                    {
                        await applied.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                    }

                    throw new HttpRequestException("Injected fault: the response was lost after the server applied the request.");
            }

            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        private static HttpResponseMessage Error(HttpStatusCode status, string type) => new(status)
        {
            Content = new StringContent($"{{\"__type\":\"com.amazonaws.dynamodb.v20120810#{type}\",\"message\":\"Injected fault.\"}}", Encoding.UTF8, "application/x-amz-json-1.0"),
        };
    }
}
