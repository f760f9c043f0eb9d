using System.CommandLine;
using System.CommandLine.Parsing;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Host.Commands;

/// <summary>The options every table command shares: where the table is and how to print.</summary>
internal sealed class CommonOptions
{
    public Option<string> Table { get; } = new("--table") { Description = "The lock table.", DefaultValueFactory = _ => DynamoDbLockTableOptions.DefaultTableName, Recursive = true };

    public Option<string?> Endpoint { get; } = new("--endpoint") { Description = "DynamoDB endpoint URL; default: the AWS SDK's configuration (AWS_ENDPOINT_URL_DYNAMODB, profile).", Recursive = true };

    public Option<string?> Region { get; } = new("--region") { Description = "AWS region; default: the AWS SDK's configuration.", Recursive = true };

    public Option<string> Output { get; } = CreateOutput();

    public Option<bool> Verbose { get; } = new("--verbose") { Description = "Show stack traces and Akka's log.", Recursive = true };

    /// <summary>The longest duration any option accepts.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(7);

    public static Option<TimeSpan> Duration(string name, string description, TimeSpan defaultValue, bool allowZero = false) => new(name)
    {
        Description = description + $" (e.g. 500ms, 20s, 2m) [default: {Durations.Format(defaultValue)}]",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => ParseDuration(result, allowZero),
    };

    public void AddTo(RootCommand root)
    {
        root.Options.Add(Table);
        root.Options.Add(Endpoint);
        root.Options.Add(Region);
        root.Options.Add(Verbose);
    }

    public DynamoDbLockTable CreateTable(ParseResult parse)
    {
        var endpoint = parse.GetValue(Endpoint);
        var region = parse.GetValue(Region);
        var config = new AmazonDynamoDBConfig();
        if (endpoint is not null)
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out _))
            {
                throw new UsageException($"--endpoint must be an absolute URL (got '{endpoint}').");
            }

            config.ServiceURL = endpoint;
            config.AuthenticationRegion = region ?? "us-east-1";
        }
        else if (region is not null)
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
        }

        AWSCredentials credentials;
        try
        {
            credentials = DefaultAWSCredentialsIdentityResolver.GetCredentials();
        }
        catch (AmazonClientException) when (endpoint is not null)
        {
            // Local DynamoDB servers (dynalite, DynamoDB Local) accept any credentials.
            credentials = new BasicAWSCredentials("local", "local");
        }

        var table = parse.GetValue(Table)!;
        try
        {
            return new DynamoDbLockTable(new AmazonDynamoDBClient(credentials, config), new DynamoDbLockTableOptions { TableName = table });
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
    }

    private static Option<string> CreateOutput()
    {
        var output = new Option<string>("--output") { Description = "text or json.", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");
        return output;
    }

    public static TimeSpan ParseDuration(ArgumentResult result, bool allowZero = false)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
        var valid = allowZero && text == "0" ? Durations.TryParse("0s", out var value) : Durations.TryParse(text, out value);
        if (!valid || value < TimeSpan.Zero || (value == TimeSpan.Zero && !allowZero) || value > MaxDuration)
        {
            var name = result.Parent is OptionResult option ? option.Option.Name : "duration";
            result.AddError($"{name}: '{text}' is not a {(allowZero ? "" : "positive ")}duration of at most 7 days such as 500ms, 20s or 2m.");
        }

        return value;
    }
}

/// <summary>Bad input found after parsing; reported as one line with exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
