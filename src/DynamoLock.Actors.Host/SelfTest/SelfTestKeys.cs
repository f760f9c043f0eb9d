using System.Runtime.ExceptionServices;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Host.SelfTest;

/// <summary>
/// The self-test's keys: all under <c>dynamolock-selftest/&lt;run id&gt;/</c>, remembered as they are handed out so that
/// the clean-up deletes exactly them; and the look at the table that tells whether anything else lives there.
/// </summary>
internal sealed class SelfTestKeys
{
    /// <summary>The prefix of every self-test run's keys.</summary>
    public const string RootPrefix = "dynamolock-selftest/";

    /// <summary>How many items one look at the table reads: enough to meet another lock at once in a table in use.</summary>
    private const int SurveyPageSize = 25;

    private readonly List<LockKey> _handedOut = [];

    /// <summary>Creates the keys of a run; <paramref name="runId"/> defaults to a random one.</summary>
    public SelfTestKeys(string? runId = null)
    {
        RunId = runId ?? Guid.NewGuid().ToString("N")[..8];
        Prefix = $"{RootPrefix}{RunId}/";
    }

    /// <summary>This run's id.</summary>
    public string RunId { get; }

    /// <summary>The prefix of this run's keys.</summary>
    public string Prefix { get; }

    /// <summary>The keys handed out so far.</summary>
    public IReadOnlyList<LockKey> HandedOut
    {
        get
        {
            lock (_handedOut)
            {
                return [.. _handedOut];
            }
        }
    }

    /// <summary>This run's key <paramref name="name"/>, remembered for the clean-up before anything is written to it.</summary>
    public LockKey Key(string name)
    {
        var key = new LockKey(Prefix + name);
        lock (_handedOut)
        {
            _handedOut.Add(key);
        }

        return key;
    }

    /// <summary>
    /// Reads the table's keys a small page at a time until it meets one that is not a self-test's, or the end. A table in
    /// use shows another key in the first page (one Scan of <see cref="SurveyPageSize"/> items, key attribute only); only a
    /// table full of earlier runs' leftovers takes more.
    /// </summary>
    public static async Task<TableSurvey> SurveyAsync(DynamoDbLockTable table, CancellationToken cancellationToken)
    {
        var earlierRuns = 0;
        string? token = null;
        do
        {
            var page = await table.ListKeysAsync(SurveyPageSize, token, cancellationToken).ConfigureAwait(false);
            foreach (var key in page.Keys)
            {
                if (key is null || !key.StartsWith(RootPrefix, StringComparison.Ordinal))
                {
                    return new TableSurvey(key ?? string.Empty, earlierRuns);
                }

                earlierRuns++;
            }

            token = page.ContinuationToken;
        }
        while (token is not null);

        return new TableSurvey(null, earlierRuns);
    }

    /// <summary>
    /// Deletes every record of this run's keys, unconditionally: they are this run's alone. Tries every key even when one
    /// fails, then throws the first failure.
    /// </summary>
    /// <returns>How many keys were deleted (deleting a key with no record counts: it is gone either way).</returns>
    public async Task<int> DeleteAllAsync(DynamoDbLockTable table, CancellationToken cancellationToken)
    {
        Exception? failure = null;
        var deleted = 0;
        foreach (var key in HandedOut)
        {
            try
            {
                await table.DeleteUnconditionallyAsync(key, cancellationToken).ConfigureAwait(false);
                deleted++;
            }
            catch (Exception e) when (e is LockTableException or OperationCanceledException)
            {
                failure ??= e;
            }
        }

        if (failure is not null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }

        return deleted;
    }

    /// <summary>What <see cref="SurveyAsync"/> found.</summary>
    /// <param name="OtherKey">The first key that is not a self-test's (empty for an item without the partition key attribute: another key schema); <see langword="null"/> when there is none.</param>
    /// <param name="EarlierRuns">Records of earlier self-test runs met on the way (a run killed before its clean-up leaves some).</param>
    internal sealed record TableSurvey(string? OtherKey, int EarlierRuns);
}
