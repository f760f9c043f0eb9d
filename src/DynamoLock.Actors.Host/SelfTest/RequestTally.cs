namespace DynamoLock.Actors.Host.SelfTest;

/// <summary>
/// The HTTP requests each run of one operation sent, as <see cref="Chaos.RequestCounter"/> counted them (SDK retries
/// included), and the verdict on them against what the protocol promises.
/// </summary>
internal sealed class RequestTally
{
    private const string UpdateItem = "UpdateItem";
    private const string GetItem = "GetItem";
    private readonly List<IReadOnlyDictionary<string, int>> _runs = [];

    /// <summary>How many runs were counted.</summary>
    public int Runs => _runs.Count;

    /// <summary>Adds one run's counts.</summary>
    public void Add(IReadOnlyDictionary<string, int> counts) => _runs.Add(counts);

    /// <summary>Requests as the report shows them: <c>1 (UpdateItem)</c>, <c>2 (UpdateItem + GetItem)</c>, <c>2 (UpdateItem x2)</c>.</summary>
    public static string Describe(IReadOnlyDictionary<string, int> counts)
    {
        var total = counts.Values.Sum();
        if (total == 0)
        {
            return "0";
        }

        // UpdateItem first: it is the write, the rest follow from it.
        var parts = counts
            .Where(p => p.Value > 0)
            .OrderBy(p => p.Key == UpdateItem ? 0 : 1)
            .ThenBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => p.Value == 1 ? p.Key : $"{p.Key} x{p.Value}");
        return $"{total} ({string.Join(" + ", parts)})";
    }

    /// <summary>
    /// Judges runs that should each be one request of <paramref name="operation"/>. Runs that repeat only that operation
    /// are SDK retries (throttling, a server error): the counter sees them, the protocol did not ask for them; they pass
    /// while at least half the runs are exactly one request. A run with any other request breaks the promise.
    /// </summary>
    /// <param name="name">The report line's name.</param>
    /// <param name="operation">The one request expected, such as <c>UpdateItem</c>.</param>
    /// <param name="what">What a run is, plural, for the figures (<c>acquires</c>).</param>
    public SelfTestCheck JudgeOne(string name, string operation, string what)
    {
        var exact = _runs.Count(r => Total(r) == 1 && r.GetValueOrDefault(operation) == 1);
        var retried = _runs.Where(r => Total(r) > 1 && r.GetValueOrDefault(operation) == Total(r)).ToList();
        var other = _runs.Where(r => !(Total(r) == 1 && r.GetValueOrDefault(operation) == 1) && !(Total(r) > 1 && r.GetValueOrDefault(operation) == Total(r))).ToList();
        var figures = $"1 ({operation}) in {exact} of {_runs.Count} {what}";
        if (retried.Count > 0)
        {
            figures += $"; {retried.Count} retried by the AWS SDK ({Shapes(retried)}: throttling or a server error, counted here, not asked for by the protocol)";
        }

        if (other.Count == 0 && exact > 0 && exact * 2 >= _runs.Count)
        {
            return SelfTestCheck.Pass(name, figures);
        }

        return SelfTestCheck.Fail(name, $"expected 1 ({operation}); {figures}{(other.Count > 0 ? $"; {other.Count} sent {Shapes(other)}" : string.Empty)}");
    }

    /// <summary>
    /// Judges contended acquires: one <c>UpdateItem</c> where the failed write returns the holder's item (DynamoDB), or
    /// that plus one consistent <c>GetItem</c> where it does not (dynalite). Which one is read from the counts; every run
    /// must be the same.
    /// </summary>
    public SelfTestCheck JudgeContended(string name)
    {
        if (_runs.Count > 0 && _runs.All(r => Total(r) == 1 && r.GetValueOrDefault(UpdateItem) == 1))
        {
            return SelfTestCheck.Pass(
                name,
                $"1 (UpdateItem) in {_runs.Count} of {_runs.Count}: the refused write brought back the holder's item " +
                "(ReturnValuesOnConditionCheckFailure=ALL_OLD), as DynamoDB does, so no read was needed");
        }

        if (_runs.Count > 0 && _runs.All(r => Total(r) == 2 && r.GetValueOrDefault(UpdateItem) == 1 && r.GetValueOrDefault(GetItem) == 1))
        {
            return SelfTestCheck.Pass(
                name,
                $"2 (UpdateItem + GetItem) in {_runs.Count} of {_runs.Count}: this server does not return the holder's item with a failed " +
                "condition, as DynamoDB does, so the library reads it with one consistent GetItem; on DynamoDB this is 1");
        }

        return SelfTestCheck.Fail(
            name,
            $"expected 1 (UpdateItem) on DynamoDB, or 2 (UpdateItem + GetItem) on a server that does not return the holder's item with a failed condition; got {Shapes(_runs)}");
    }

    private static int Total(IReadOnlyDictionary<string, int> counts) => counts.Values.Sum();

    /// <summary>The distinct request shapes of <paramref name="runs"/>, each with how many runs sent it.</summary>
    private static string Shapes(IEnumerable<IReadOnlyDictionary<string, int>> runs) => string.Join(
        ", ",
        runs.Select(Describe).GroupBy(d => d, StringComparer.Ordinal).Select(g => g.Count() == 1 ? g.Key : $"{g.Key} in {g.Count()} runs"));
}
