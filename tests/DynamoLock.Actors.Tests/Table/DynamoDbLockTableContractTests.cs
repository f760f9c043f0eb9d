using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;

namespace DynamoLock.Actors.Tests.Table;

[Trait("Category", "DynamoDB")]
public sealed class DynamoDbLockTableContractTests(DynamoDbTableFixture fixture) : LockTableContract, IClassFixture<DynamoDbTableFixture>
{
    protected override ILockTable Table => fixture.Table;

    protected override async Task<ILockTable> CreateSortKeyTableAsync() =>
        await fixture.CreateTableAsync(new DynamoDbLockTableOptions { TableName = DynamoDbTableFixture.UniqueTableName("sorted"), SortKeyName = "family" });
}
