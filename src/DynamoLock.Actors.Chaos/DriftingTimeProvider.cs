namespace DynamoLock.Actors.Chaos;

/// <summary>
/// A monotonic clock that runs <see cref="Rate"/> times as fast as the real one (1.05 = 5 % fast, 0.95 = 5 % slow):
/// one client's clock drift, to show where the protocol's drift allowance matters. Wall-clock time is left as it is.
/// </summary>
public sealed class DriftingTimeProvider : TimeProvider
{
    private readonly long _origin = System.GetTimestamp();

    /// <summary>Creates a clock running at <paramref name="rate"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The rate is not positive.</exception>
    public DriftingTimeProvider(double rate)
    {
        Rate = rate > 0 ? rate : throw new ArgumentOutOfRangeException(nameof(rate), rate, "The clock rate must be positive.");
    }

    /// <summary>How fast this clock runs relative to the real one.</summary>
    public double Rate { get; }

    /// <inheritdoc />
    public override long GetTimestamp() => _origin + (long)((System.GetTimestamp() - _origin) * Rate);
}
