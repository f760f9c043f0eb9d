using System.Net;
using Amazon;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Hosting;

/// <summary>
/// Builds the DynamoDB client the library (<see cref="LockTableFactory"/>) and the <c>dynamolock</c> tool use, so both
/// resolve endpoints and credentials the same way: an explicit service URL, else <c>AWS_ENDPOINT_URL_DYNAMODB</c>, else
/// <c>AWS_ENDPOINT_URL</c>, else the AWS SDK's normal resolution (region, profile).
/// </summary>
/// <remarks>
/// A local server (dynalite, DynamoDB Local) on a loopback address accepts any credentials, so when none can be resolved
/// a placeholder pair is used there instead of failing. Real credentials are still preferred when present, because
/// DynamoDB Local without <c>-sharedDb</c> keeps one set of tables per access key. Against any other endpoint missing
/// credentials stay an error (the table adapter reports it as a configuration error).
/// </remarks>
internal static class DynamoDbClients
{
    /// <summary>The endpoint override for DynamoDB only, as the AWS SDKs name it.</summary>
    public const string ServiceEndpointVariable = "AWS_ENDPOINT_URL_DYNAMODB";

    /// <summary>The endpoint override for every AWS service, as the AWS SDKs name it.</summary>
    public const string GlobalEndpointVariable = "AWS_ENDPOINT_URL";

    /// <summary>The region the SDK needs to sign requests to an explicit endpoint when none is configured; local servers ignore it.</summary>
    public const string FallbackRegion = "us-east-1";

    /// <summary>Creates the client.</summary>
    /// <param name="serviceUrl">The endpoint, or <see langword="null"/>/empty for the environment's or the SDK's.</param>
    /// <param name="region">The region, or <see langword="null"/>/empty for the SDK's (with an endpoint: <c>AWS_REGION</c>, <c>AWS_DEFAULT_REGION</c>, else us-east-1).</param>
    /// <param name="serviceUrlSetting">How the caller names <paramref name="serviceUrl"/> in messages (an option or a setting).</param>
    /// <param name="httpClientFactory">
    /// The client's HTTP layer, or <see langword="null"/> for the SDK's. <c>dynamolock selftest</c> passes one that counts
    /// requests, so that what it measures is this very client, built as the library builds it.
    /// </param>
    /// <exception cref="ArgumentException">The endpoint is not an absolute http or https URL; the message names the setting.</exception>
    /// <exception cref="LockTableConfigurationException">No endpoint is given and the AWS SDK finds no region.</exception>
    public static IAmazonDynamoDB Create(string? serviceUrl, string? region, string serviceUrlSetting = "service-url", HttpClientFactory? httpClientFactory = null)
    {
        var (endpoint, setting) = Endpoint(serviceUrl, serviceUrlSetting);
        region = string.IsNullOrWhiteSpace(region) ? null : region.Trim();
        var config = new AmazonDynamoDBConfig();
        if (httpClientFactory is not null)
        {
            config.HttpClientFactory = httpClientFactory;
        }

        if (endpoint is null)
        {
            if (region is not null)
            {
                config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
            }

            // The SDK resolves credentials lazily (a missing one fails the first call, which the table adapter turns into a
            // LockTableConfigurationException that says what to set), but the region when the client is made.
            try
            {
                return new AmazonDynamoDBClient(config);
            }
            catch (AmazonClientException e) when (region is null)
            {
                throw new LockTableConfigurationException(
                    "No AWS region is configured for the lock table's DynamoDB client: set AWS_REGION (or a region in the AWS profile, " +
                    $"or the region setting: --region for the dynamolock tool), or point at a local server with {ServiceEndpointVariable} or {serviceUrlSetting}. " +
                    $"The AWS SDK said: {e.Message}",
                    e);
            }
        }

        var uri = Validate(endpoint, setting);
        config.ServiceURL = endpoint;
        config.AuthenticationRegion = region ?? Variable("AWS_REGION") ?? Variable("AWS_DEFAULT_REGION") ?? FallbackRegion;
        if (!IsLoopback(uri))
        {
            return new AmazonDynamoDBClient(config);
        }

        AWSCredentials credentials;
        try
        {
            credentials = DefaultAWSCredentialsIdentityResolver.GetCredentials();
        }
        catch (AmazonClientException)
        {
            // A local server accepts any credentials; "local" keeps DynamoDB Local's per-access-key tables predictable.
            credentials = new BasicAWSCredentials("local", "local");
        }

        return new AmazonDynamoDBClient(credentials, config);
    }

    /// <summary>The endpoint to use and the name of where it came from, or <see langword="null"/> for the SDK's resolution.</summary>
    public static (string? Endpoint, string Setting) Endpoint(string? serviceUrl, string serviceUrlSetting = "service-url")
    {
        if (!string.IsNullOrWhiteSpace(serviceUrl))
        {
            return (serviceUrl.Trim(), serviceUrlSetting);
        }

        if (Variable(ServiceEndpointVariable) is { } service)
        {
            return (service, ServiceEndpointVariable);
        }

        return Variable(GlobalEndpointVariable) is { } global ? (global, GlobalEndpointVariable) : (null, serviceUrlSetting);
    }

    /// <summary>Whether <paramref name="endpoint"/> names this machine: localhost, 127.0.0.0/8 or ::1.</summary>
    public static bool IsLoopback(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var host = endpoint.Host.Trim('[', ']');
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
    }

    private static Uri Validate(string endpoint, string setting)
    {
        // "localhost:8123" parses as an absolute URI with the scheme "localhost": only http and https reach a server.
        if (Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            return uri;
        }

        // A bare host:port most likely lacks only its scheme; anything else gets no guess.
        var bare = !endpoint.Contains("://", StringComparison.Ordinal) && !endpoint.StartsWith('/')
            && Uri.TryCreate("http://" + endpoint, UriKind.Absolute, out var guess) && guess.Host.Length > 0;
        var hint = bare ? $" (did you mean http://{endpoint}?)" : string.Empty;
        throw new ArgumentException($"{setting} must be an absolute http or https URL such as http://localhost:8000 (got '{endpoint}'){hint}.", setting);
    }

    private static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
}
