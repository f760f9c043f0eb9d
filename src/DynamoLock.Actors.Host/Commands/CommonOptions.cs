using System.CommandLine;
using System.CommandLine.Parsing;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using DynamoLock.Actors.Hosting;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Host.Commands;

/// <summary>The options every table command shares: where the table is and how to print.</summary>
internal sealed class CommonOptions
{
    public Option<string> Table { get; } = new("--table") { Description = "The lock table.", DefaultValueFactory = _ => DynamoDbLockTableOptions.DefaultTableName, Recursive = true };

    public Option<string?> Endpoint { get; } = new("--endpoint") { Description = "DynamoDB endpoint URL, e.g. http://localhost:8000 [default: AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL, else the AWS SDK's configuration]. A loopback endpoint needs no AWS credentials.", Recursive = true };

    public Option<string?> Region { get; } = new("--region") { Description = "AWS region; default: the AWS SDK's configuration.", Recursive = true };

    public Option<string> Output { get; } = CreateOutput();

    public Option<bool> Verbose { get; } = new("--verbose") { Description = "Show stack traces, progress and Akka's log (on standard error).", Recursive = true };

    /// <summary>The longest duration any option accepts.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(7);

    /// <summary>A duration option: <c>500ms</c>, <c>20s</c>, <c>2m</c>, <c>1h</c> or <c>00:00:20</c>; help shows its default once.</summary>
    public static Option<CliDuration> Duration(string name, string description, TimeSpan defaultValue, bool allowZero = false) => new(name)
    {
        Description = description + " (e.g. 500ms, 20s, 2m, 1h)",
        DefaultValueFactory = _ => new CliDuration(defaultValue),
        CustomParser = result => new CliDuration(ParseDuration(result, allowZero)),
    };

    public void AddTo(RootCommand root)
    {
        root.Options.Add(Table);
        root.Options.Add(Endpoint);
        root.Options.Add(Region);
        root.Options.Add(Verbose);
    }

    public DynamoDbLockTable CreateTable(ParseResult parse) => CreateTable(parse, CreateClient(parse));

    /// <summary>
    /// The DynamoDB client of <c>--endpoint</c> and <c>--region</c>, built by the library's own client factory:
    /// --endpoint, else AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL, else the SDK's configuration; a loopback endpoint
    /// works without credentials. <paramref name="httpClientFactory"/> replaces its HTTP layer (to count requests).
    /// </summary>
    public IAmazonDynamoDB CreateClient(ParseResult parse, HttpClientFactory? httpClientFactory = null)
    {
        try
        {
            return DynamoDbClients.Create(parse.GetValue(Endpoint), parse.GetValue(Region), "--endpoint", httpClientFactory);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(HumanText.Problem(e));
        }
    }

    /// <summary>The lock table named by <c>--table</c> on <paramref name="client"/> (disposed here if the name is invalid).</summary>
    public DynamoDbLockTable CreateTable(ParseResult parse, IAmazonDynamoDB client)
    {
        try
        {
            return new DynamoDbLockTable(client, new DynamoDbLockTableOptions { TableName = parse.GetValue(Table)! });
        }
        catch (ArgumentException e)
        {
            client.Dispose();
            throw new UsageException($"--table: {HumanText.Problem(e)}");
        }
    }

    /// <summary>How to create the table with this tool, for the options given (for the missing-table hint).</summary>
    public string CreateTableCommandLine(ParseResult parse, string? tableName = null)
    {
        var line = $"dynamolock create-table --table {tableName ?? parse.GetValue(Table)}";
        if (parse.GetValue(Endpoint) is { Length: > 0 } endpoint)
        {
            line += $" --endpoint {endpoint}";
        }

        if (parse.GetValue(Region) is { Length: > 0 } region)
        {
            line += $" --region {region}";
        }

        return line;
    }

    private static Option<string> CreateOutput()
    {
        var output = new Option<string>("--output") { Description = "text or json.", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");
        return output;
    }

    public static TimeSpan ParseDuration(ArgumentResult result, bool allowZero = false)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value.Trim() : null;
        var name = result.Parent is OptionResult option ? option.Option.Name : "duration";
        var negative = text is ['-', .. var rest] && (rest == "0" || Durations.TryParse(rest, out _));
        var valid = !negative && (text == "0" ? allowZero : Durations.TryParse(text, out _));
        Durations.TryParse(text == "0" ? "0s" : text, out var value);
        if (negative)
        {
            result.AddError($"{name} must not be negative (got '{text}'){(allowZero ? "; 0 tries once" : string.Empty)}.");
        }
        else if (!valid || (value == TimeSpan.Zero && !allowZero) || value > MaxDuration)
        {
            result.AddError($"{name}: '{text}' is not a {(allowZero ? string.Empty : "positive ")}duration of at most 7 days such as 500ms, 20s, 2m, 1h or 00:00:20.");
        }

        return value;
    }
}

/// <summary>Bad input found after parsing; reported as one line with exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
