using System.CommandLine;
using DynamoLock.Actors.Host.Commands;
using DynamoLock.Actors.Host.Demo;
using DynamoLock.Actors.Host.SelfTest;
using Spectre.Console;

namespace DynamoLock.Actors.Host;

/// <summary>The <c>dynamolock</c> command-line host.</summary>
public static class Program
{
    /// <summary>Parses the command line and runs the command; bad arguments exit with 2.</summary>
    public static async Task<int> Main(string[] args)
    {
        // Spectre assumes 80 columns when standard output is not a terminal and wraps tables there; a pipe or a file has no
        // width, so lines are as long as their content.
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = 4096;
        }

        var common = new CommonOptions();
        var root = new RootCommand("dynamolock: distributed locks for Akka.NET on Amazon DynamoDB.\n" + ExitCodes.Help)
        {
            DemoCommand.Create(common),
            RunCommand.Create(common),
            ListCommand.Create(common),
            InspectCommand.Create(common),
            WatchCommand.Create(common),
            CreateTableCommand.Create(common),
            IamPolicyCommand.Create(common),
            ReleaseCommand.Create(common),
            SelfTestCommand.Create(common),
            SoakCommand.Create(common),
            SimulateCommand.Create(common),
            ChaosWorkerCommand.Create(common),
            LocalDynamoDbCommand.Create(common),
        };
        common.AddTo(root);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is not System.CommandLine.Help.HelpAction)
        {
            if (UnknownCommand(root, parse) is { } unknown)
            {
                await Console.Error.WriteLineAsync(unknown).ConfigureAwait(false);
            }
            else
            {
                foreach (var error in parse.Errors)
                {
                    await Console.Error.WriteLineAsync($"dynamolock: {error.Message}").ConfigureAwait(false);
                }
            }

            await Console.Error.WriteLineAsync($"Run 'dynamolock {(parse.CommandResult.Command == root ? string.Empty : parse.CommandResult.Command.Name + " ")}--help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        // Ctrl-C and SIGTERM cancel the command's token; give it time to stop its child process (within --grace, which is
        // shorter than a fifth of the lease, at most 7 days / 5) and release its lock before the process is ended regardless.
        return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromDays(2) }).ConfigureAwait(false);
    }

    /// <summary>
    /// When the first word is not a command, one line that says so and suggests the nearest command (decided from the
    /// parse's structure: no command matched and a word was left over).
    /// </summary>
    private static string? UnknownCommand(RootCommand root, ParseResult parse)
    {
        if (parse.CommandResult.Command != root || parse.UnmatchedTokens.Count == 0 || parse.UnmatchedTokens[0].StartsWith('-'))
        {
            return null;
        }

        var word = parse.UnmatchedTokens[0];
        var nearest = root.Subcommands
            .Where(c => !c.Hidden)
            .Select(c => (c.Name, Distance: c.Name.StartsWith(word, StringComparison.OrdinalIgnoreCase) ? 0 : Distance(word.ToLowerInvariant(), c.Name)))
            .OrderBy(c => c.Distance)
            .FirstOrDefault();
        var suggestion = nearest.Name is not null && nearest.Distance <= Math.Max(2, word.Length / 3) ? $" Did you mean '{nearest.Name}'?" : string.Empty;
        return $"dynamolock: '{word}' is not a command.{suggestion} Commands: {string.Join(", ", root.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}.";
    }

    /// <summary>Levenshtein distance, for suggesting a command.</summary>
    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }
}
