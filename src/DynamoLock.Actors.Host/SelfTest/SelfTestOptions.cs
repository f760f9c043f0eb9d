namespace DynamoLock.Actors.Host.SelfTest;

/// <summary>How one self-test runs.</summary>
/// <param name="Samples">Rounds of uncontended acquire and release timed for the latency lines.</param>
/// <param name="Lease">The lease of every lock the self-test writes; the takeover check waits about this long.</param>
/// <param name="Verbose">Whether the actor system of the takeover check logs to standard error.</param>
internal sealed record SelfTestOptions(int Samples, TimeSpan Lease, bool Verbose)
{
    /// <summary>The default number of rounds.</summary>
    public const int DefaultSamples = 50;

    /// <summary>The most rounds accepted.</summary>
    public const int MaxSamples = 10_000;

    /// <summary>The default lease: short, so that the takeover check is quick, yet many round trips long on any network.</summary>
    public static readonly TimeSpan DefaultLease = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The shortest lease accepted. The library accepts 1 ms, but the takeover check measures a wait against the lease:
    /// below a second, one slow round trip to a real region (tens to hundreds of milliseconds) is a sizeable part of it,
    /// and of the safety margin (a fifth of the lease) a holder keeps.
    /// </summary>
    public static readonly TimeSpan MinLease = TimeSpan.FromSeconds(1);

    /// <summary>The longest lease accepted: the takeover check waits that long.</summary>
    public static readonly TimeSpan MaxLease = TimeSpan.FromMinutes(1);
}
