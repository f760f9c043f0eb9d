using System.Globalization;
using System.Text;
using Akka.Actor.Setup;
using Akka.Hosting;
using Akka.Hosting.Coordination;
using Amazon.DynamoDBv2;
using DynamoLock.Actors.Coordination;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Hosting;

/// <summary>
/// The DynamoDB lease for Akka.Hosting: pass it as <c>ClusterSingletonOptions.LeaseImplementation</c>,
/// <c>ShardOptions.LeaseImplementation</c> or <c>LeaseMajorityOption.LeaseImplementation</c>, and register it with
/// <see cref="AkkaHostingExtensions.WithDynamoDbLease(AkkaConfigurationBuilder, DynamoDbLeaseOption)"/> (the cluster
/// options read only its <see cref="ConfigPath"/>, so the lease's HOCON must be added by that call).
/// </summary>
public sealed class DynamoDbLeaseOption : LeaseOptionBase
{
    /// <inheritdoc />
    public override string ConfigPath => DynamoDbLease.ConfigPath;

    /// <inheritdoc />
    public override Type Class => typeof(DynamoDbLease);

    /// <summary>The lease (<c>heartbeat-timeout</c>); default 120 s from <c>akka.coordination.lease</c>.</summary>
    public TimeSpan? HeartbeatTimeout { get; set; }

    /// <summary>The heartbeat period (<c>heartbeat-interval</c>), less than half the lease; default 12 s.</summary>
    public TimeSpan? HeartbeatInterval { get; set; }

    /// <summary>How long Acquire and Release may take (<c>lease-operation-timeout</c>); default 5 s.</summary>
    public TimeSpan? OperationTimeout { get; set; }

    /// <summary>How often a refused node re-reads the lease while it keeps asking; default 1 s.</summary>
    public TimeSpan? RefreshInterval { get; set; }

    /// <summary>
    /// How long <c>Acquire()</c> waits for a lease held elsewhere before it answers <see langword="false"/>
    /// (<c>acquire-wait</c>); default 2 s (or half of a shorter <see cref="OperationTimeout"/>), zero tries once. Over Akka.Remote the holder's node tells the waiting node when it
    /// releases, so a singleton's planned hand-over does not wait for <c>LeaseRetryInterval</c>. Must be less than
    /// <see cref="OperationTimeout"/>; a refused acquire (the split brain resolver's losing side, say) answers this much later.
    /// </summary>
    public TimeSpan? AcquireWait { get; set; }

    /// <summary>
    /// Whether the node's leases share one session, heartbeated once per interval for all of them (<c>session</c>);
    /// default off. See <see cref="DynamoLockSettings.UseSessions"/>.
    /// </summary>
    public bool? UseSession { get; set; }

    /// <summary>dynamodb (default) or in-memory.</summary>
    public LockStore? Store { get; set; }

    /// <summary>The DynamoDB table; default <c>dynamolock</c>.</summary>
    public string? TableName { get; set; }

    /// <summary>A DynamoDB endpoint; default: the AWS SDK's resolution.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>The AWS region; default: the AWS SDK's resolution.</summary>
    public string? Region { get; set; }

    /// <summary>The DynamoDB client (added as a <see cref="DynamoDbLeaseSetup"/>).</summary>
    public IAmazonDynamoDB? Client { get; set; }

    /// <summary>A lock table to use as it is (added as a <see cref="DynamoDbLeaseSetup"/>), e.g. an <see cref="InMemoryLockTable"/> in tests.</summary>
    public ILockTable? Table { get; set; }

    /// <inheritdoc />
    public override void Apply(AkkaConfigurationBuilder builder, Setup? setup = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddHocon(ToHocon(), HoconAddMode.Prepend);
        if (Client is not null || Table is not null)
        {
            builder.AddSetup(new DynamoDbLeaseSetup { Client = Client, Table = Table });
        }
    }

    /// <summary>The HOCON this option renders (only the values that are set).</summary>
    public string ToHocon()
    {
        var hocon = new StringBuilder();
        void Add(string path, string? value)
        {
            if (value is not null)
            {
                hocon.Append(ConfigPath).Append('.').Append(path).Append(" = ").AppendLine(value);
            }
        }

        static string? Ms(TimeSpan? value) => value is { } t ? ((long)t.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms" : null;
        static string? Quoted(string? value) => value is null ? null : "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

        Add("lease-class", Quoted(Class.AssemblyQualifiedName));
        Add("heartbeat-timeout", Ms(HeartbeatTimeout));
        Add("heartbeat-interval", Ms(HeartbeatInterval));
        Add("lease-operation-timeout", Ms(OperationTimeout));
        Add("refresh-interval", Ms(RefreshInterval));
        Add("acquire-wait", Ms(AcquireWait));
        Add("session", UseSession switch { true => "on", false => "off", null => null });
        Add("table.store", Store switch { LockStore.InMemory => "in-memory", LockStore.DynamoDb => "dynamodb", _ => null });
        Add("table.name", Quoted(TableName));
        Add("table.service-url", Quoted(ServiceUrl));
        Add("table.region", Quoted(Region));
        return hocon.ToString();
    }
}
