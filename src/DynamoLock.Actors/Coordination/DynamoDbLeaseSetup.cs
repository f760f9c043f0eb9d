using Akka.Actor.Setup;
using Amazon.DynamoDBv2;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Coordination;

/// <summary>
/// Objects for <see cref="DynamoDbLease"/> that HOCON cannot carry: a DynamoDB client, or a whole lock table.
/// Add it to the actor system's setup (Akka.Hosting does this for <see cref="DynamoLock.Actors.Hosting.DynamoDbLeaseOption"/>).
/// </summary>
public sealed class DynamoDbLeaseSetup : Setup
{
    /// <summary>The DynamoDB client; default: one from the lease's HOCON (service-url, region) or the AWS SDK's configuration.</summary>
    public IAmazonDynamoDB? Client { get; init; }

    /// <summary>A lock table to use as it is, overriding the lease's table settings (e.g. an <see cref="InMemoryLockTable"/> in tests).</summary>
    public ILockTable? Table { get; init; }
}
