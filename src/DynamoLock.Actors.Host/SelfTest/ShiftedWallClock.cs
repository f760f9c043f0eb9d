namespace DynamoLock.Actors.Host.SelfTest;

/// <summary>
/// A wall clock set <see cref="Offset"/> away from this machine's, with the machine's monotonic clock (timestamps)
/// untouched: another machine's clock, as far as what it writes into a lock record is concerned.
/// </summary>
internal sealed class ShiftedWallClock(TimeSpan offset) : TimeProvider
{
    /// <summary>How far this clock is ahead of the machine's (negative: behind).</summary>
    public TimeSpan Offset { get; } = offset;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
}
