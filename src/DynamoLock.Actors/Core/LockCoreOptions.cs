namespace DynamoLock.Actors.Core;

/// <summary>What a <see cref="LockCore"/> needs from the settings, plus its sources of randomness and the mutations the simulator tests it with.</summary>
internal sealed record LockCoreOptions(string OwnerName, TimeSpan RefreshInterval, TimeSpan DriftAllowance, int MaxLocalHandOffs, TimeSpan IdleTimeout)
{
    /// <summary>Record version numbers and jitter; deterministic in the simulator.</summary>
    public ILockCoreEntropy Entropy { get; init; } = SystemEntropy.Instance;

    /// <summary>Deliberate protocol breaks, for the simulator's proof that it catches them. Never set outside it.</summary>
    public LockCoreMutation Mutation { get; init; } = LockCoreMutation.None;

    /// <summary>The core options of <paramref name="settings"/>.</summary>
    public static LockCoreOptions From(DynamoLockSettings settings) =>
        new(settings.OwnerName, settings.RefreshInterval, settings.DriftAllowance, settings.MaxLocalHandOffs, settings.IdleTimeout);
}

/// <summary>Where the core's record version numbers and jitter come from.</summary>
internal interface ILockCoreEntropy
{
    /// <summary>A record version number no other write uses.</summary>
    string NextRecordVersionNumber();

    /// <summary>A number in [0, 1) for jitter.</summary>
    double NextDouble();
}

/// <summary>Random UUIDs (as the Java client writes) and <see cref="Random.Shared"/>.</summary>
internal sealed class SystemEntropy : ILockCoreEntropy
{
    public static readonly SystemEntropy Instance = new();

    public string NextRecordVersionNumber() => Guid.NewGuid().ToString();

    public double NextDouble() => Random.Shared.NextDouble();
}

/// <summary>Named ways to break the protocol on purpose; the simulator must catch each.</summary>
internal enum LockCoreMutation
{
    /// <summary>The protocol as designed.</summary>
    None,

    /// <summary>A waiter takes over after the observed lease alone, without the drift allowance.</summary>
    IgnoreDriftAllowance,

    /// <summary>A waiter takes over after half the observed lease.</summary>
    TakeOverAfterHalfLease,

    /// <summary>Every retry of a write mints a new record version number (the ghost-holder bug).</summary>
    NewVersionPerRetry,

    /// <summary>A grant whose write returned after its safe deadline is used anyway.</summary>
    GrantAfterSafeDeadline,

    /// <summary>The holder counts its lease from when a write's answer arrived instead of when it was sent.</summary>
    LeaseFromAnswer,

    /// <summary>The holder keeps its lock for the whole lease, with no safety margin.</summary>
    NoSafetyMargin,
}
