namespace DynamoLock.Actors.Hosting;

/// <summary>Where the lock table lives.</summary>
public enum LockStore
{
    /// <summary>Amazon DynamoDB (or a DynamoDB-compatible endpoint such as DynamoDB Local or dynalite).</summary>
    DynamoDb,

    /// <summary>Process memory: one table per name, shared by every actor system in the process. For demos and tests.</summary>
    InMemory,
}
