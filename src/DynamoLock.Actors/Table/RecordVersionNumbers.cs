namespace DynamoLock.Actors.Table;

/// <summary>Mints record version numbers: a fresh random UUID for every write, as the Java client does.</summary>
internal static class RecordVersionNumbers
{
    public static string Next() => Guid.NewGuid().ToString();
}
