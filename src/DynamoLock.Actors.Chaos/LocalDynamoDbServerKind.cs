namespace DynamoLock.Actors.Chaos;

/// <summary>The local DynamoDB API servers <c>tools/local-dynamodb</c> can start.</summary>
public enum LocalDynamoDbServerKind
{
    /// <summary>dynalite (Node.js, pinned by <c>tools/local-dynamodb/package-lock.json</c>): quick to start, not AWS's code.</summary>
    Dynalite,

    /// <summary>AWS's DynamoDB Local 1.25.1 (Java 17), from the npm package <c>amplify-dynamodb-simulator</c>.</summary>
    DynamoDbLocal,
}

/// <summary>Names and known behaviours of <see cref="LocalDynamoDbServerKind"/>.</summary>
public static class LocalDynamoDbServerKinds
{
    /// <summary>The environment variable that chooses the server the tests start: <c>dynalite</c> (default) or <c>dynamodb-local</c>.</summary>
    public const string EnvironmentVariable = "DYNAMOLOCK_LOCAL_SERVER";

    /// <summary>The names accepted on the command line and in <see cref="EnvironmentVariable"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["dynalite", "dynamodb-local"];

    /// <summary>The kind's command-line name.</summary>
    public static string Name(this LocalDynamoDbServerKind kind) => kind switch
    {
        LocalDynamoDbServerKind.Dynalite => "dynalite",
        LocalDynamoDbServerKind.DynamoDbLocal => "dynamodb-local",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>How the kind is called in prose and reports.</summary>
    public static string DisplayName(this LocalDynamoDbServerKind kind) => kind switch
    {
        LocalDynamoDbServerKind.Dynalite => "dynalite",
        LocalDynamoDbServerKind.DynamoDbLocal => "DynamoDB Local",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Parses <c>dynalite</c> or <c>dynamodb-local</c> (case-insensitive).</summary>
    public static bool TryParse(string? name, out LocalDynamoDbServerKind kind)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "dynalite":
                kind = LocalDynamoDbServerKind.Dynalite;
                return true;
            case "dynamodb-local":
                kind = LocalDynamoDbServerKind.DynamoDbLocal;
                return true;
            default:
                kind = default;
                return false;
        }
    }

    /// <summary>
    /// The kind <see cref="EnvironmentVariable"/> names; dynalite when it is unset. A value that names neither server
    /// throws, so a typo does not silently test the wrong server.
    /// </summary>
    public static LocalDynamoDbServerKind FromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(value))
        {
            return LocalDynamoDbServerKind.Dynalite;
        }

        return TryParse(value, out var kind)
            ? kind
            : throw new ArgumentException($"{EnvironmentVariable}='{value}' names no local server; use {string.Join(" or ", Names)}.");
    }

    /// <summary>
    /// Whether a failed conditional write returns the stored item when asked (<c>ReturnValuesOnConditionCheckFailure</c>),
    /// as DynamoDB does: then a contended acquire is one request. dynalite ignores the parameter.
    /// </summary>
    public static bool ReturnsItemOnConditionFailure(this LocalDynamoDbServerKind kind) => kind == LocalDynamoDbServerKind.DynamoDbLocal;
}
