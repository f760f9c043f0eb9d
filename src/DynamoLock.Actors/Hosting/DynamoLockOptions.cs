using System.Globalization;
using System.Text;
using Amazon.DynamoDBv2;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Hosting;

/// <summary>
/// Options for <see cref="AkkaHostingExtensions.WithDynamoLock(Akka.Hosting.AkkaConfigurationBuilder, DynamoLockOptions)"/>.
/// Unset values come from HOCON (<c>dynamolock { ... }</c>) and then from the defaults in the embedded reference.conf.
/// A plain settable class, so it binds from <c>IConfiguration</c> (<c>configuration.GetSection("DynamoLock").Bind(options)</c>).
/// </summary>
public sealed class DynamoLockOptions
{
    /// <summary>dynamodb (default) or in-memory.</summary>
    public LockStore? Store { get; set; }

    /// <summary>The DynamoDB table. Default <c>dynamolock</c>.</summary>
    public string? TableName { get; set; }

    /// <summary>The partition key attribute. Default <c>key</c>.</summary>
    public string? PartitionKeyName { get; set; }

    /// <summary>The sort key attribute, for tables shared by several lock families. Default: none.</summary>
    public string? SortKeyName { get; set; }

    /// <summary>When set, records carry <c>expiresAt</c> for DynamoDB TTL cleanup of abandoned locks.</summary>
    public TimeSpan? RecordTimeToLive { get; set; }

    /// <summary>Create the table at start-up if it does not exist. Default off.</summary>
    public bool? EnsureTable { get; set; }

    /// <summary>A DynamoDB endpoint (e.g. <c>http://127.0.0.1:8000</c>); default: the AWS SDK's resolution.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>The AWS region; default: the AWS SDK's resolution.</summary>
    public string? Region { get; set; }

    /// <summary>This node's identity in the lock table. Default: host name, process id and a random suffix.</summary>
    public string? OwnerName { get; set; }

    /// <summary>The default lease. Default 20 s.</summary>
    public TimeSpan? LeaseDuration { get; set; }

    /// <summary>The default heartbeat period. Default 5 s.</summary>
    public TimeSpan? HeartbeatInterval { get; set; }

    /// <summary>How often a waiter re-reads a lock held elsewhere. Default 1 s.</summary>
    public TimeSpan? RefreshInterval { get; set; }

    /// <summary>How often a waiter re-reads a lock held elsewhere when notices are on (remoting). Default 6 s.</summary>
    public TimeSpan? NoticeRefreshInterval { get; set; }

    /// <summary>How long before the end of its lease a holder gives up. Default: a fifth of the lease.</summary>
    public TimeSpan? SafetyMargin { get; set; }

    /// <summary>Clock-rate drift allowance added to a waiter's observation. Default 500 ms.</summary>
    public TimeSpan? DriftAllowance { get; set; }

    /// <summary>Local hand-offs in a row before the lock is released for other nodes. Default 10.</summary>
    public int? MaxLocalHandOffs { get; set; }

    /// <summary>Holds locks under the node's sessions (one heartbeat per node and lease); see <see cref="DynamoLockSettings.UseSessions"/>. Default off.</summary>
    public bool? UseSessions { get; set; }

    /// <summary>How long an idle per-key lock actor lives. Default 30 s.</summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>How long CoordinatedShutdown waits for held locks to be released. Default 4 s.</summary>
    public TimeSpan? ShutdownReleaseTimeout { get; set; }

    /// <summary>A lock table to use as it is (overrides every table setting above), e.g. an <see cref="InMemoryLockTable"/> shared by tests.</summary>
    public ILockTable? Table { get; set; }

    /// <summary>The DynamoDB client; default: an <see cref="IAmazonDynamoDB"/> from the service provider, else one from the AWS SDK's configuration.</summary>
    public IAmazonDynamoDB? DynamoDbClient { get; set; }

    /// <summary>The monotonic clock; default: the system clock. For tests.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Renders the values that are set as a <c>dynamolock</c> HOCON section.</summary>
    public string ToHocon()
    {
        var hocon = new StringBuilder();
        void Add(string path, object? value)
        {
            if (value is null)
            {
                return;
            }

            var text = value switch
            {
                TimeSpan t => ((long)t.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms",
                bool b => b ? "on" : "off",
                LockStore s => s == LockStore.InMemory ? "in-memory" : "dynamodb",
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => Quote(value.ToString()!),
            };
            hocon.Append("dynamolock.").Append(path).Append(" = ").AppendLine(text);
        }

        Add("owner-name", OwnerName);
        Add("lease-duration", LeaseDuration);
        Add("heartbeat-interval", HeartbeatInterval);
        Add("refresh-interval", RefreshInterval);
        Add("notice-refresh-interval", NoticeRefreshInterval);
        Add("safety-margin", SafetyMargin);
        Add("drift-allowance", DriftAllowance);
        Add("max-local-hand-offs", MaxLocalHandOffs);
        Add("use-sessions", UseSessions);
        Add("idle-timeout", IdleTimeout);
        Add("shutdown-release-timeout", ShutdownReleaseTimeout);
        Add("table.store", Store);
        Add("table.name", TableName);
        Add("table.partition-key", PartitionKeyName);
        Add("table.sort-key", SortKeyName);
        Add("table.record-time-to-live", RecordTimeToLive);
        Add("table.ensure-table", EnsureTable);
        Add("table.service-url", ServiceUrl);
        Add("table.region", Region);
        return hocon.ToString();
    }

    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
