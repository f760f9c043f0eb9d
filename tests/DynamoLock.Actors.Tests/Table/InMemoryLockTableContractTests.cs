using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Tests.Table;

public sealed class InMemoryLockTableContractTests : LockTableContract
{
    private readonly InMemoryLockTable _table = new();

    protected override ILockTable Table => _table;

    protected override Task<ILockTable> CreateSortKeyTableAsync() => Task.FromResult<ILockTable>(new InMemoryLockTable("sorted", usesSortKey: true));
}
