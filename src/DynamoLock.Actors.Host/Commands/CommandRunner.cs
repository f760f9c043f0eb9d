using System.CommandLine;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Host.Commands;

/// <summary>
/// Runs a command's body and turns failures into one clear line on standard error and an exit code (a stack trace only
/// with --verbose). The exit code follows the exception's type, never its message.
/// </summary>
internal static class CommandRunner
{
    public static async Task<int> RunAsync(ParseResult parse, CommonOptions common, string command, Func<Task<int>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (UsageException e)
        {
            return Fail(e.Message, e, ExitCodes.Usage);
        }
        catch (ArgumentException e)
        {
            return Fail(HumanText.Problem(e), e, ExitCodes.Usage);
        }
        catch (LockTableNotFoundException e)
        {
            // The library's message also names EnsureTableAsync, which means nothing at a shell prompt.
            var table = string.IsNullOrEmpty(e.TableName) ? parse.GetValue(common.Table) : e.TableName;
            return Fail($"table '{table}' does not exist at this endpoint and region. Create it with: {common.CreateTableCommandLine(parse, table)}", e, ExitCodes.TableError);
        }
        catch (LockTableException e)
        {
            return Fail(HumanText.Problem(e), e, ExitCodes.TableError);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"dynamolock {command}: interrupted.").ConfigureAwait(false);
            return ExitCodes.Interrupted;
        }
        catch (Exception e)
        {
            return Fail(HumanText.Problem(e), e, ExitCodes.TableError);
        }

        int Fail(string message, Exception error, int code)
        {
            Console.Error.WriteLine($"dynamolock {command}: {message}");
            if (parse.GetValue(common.Verbose))
            {
                Console.Error.WriteLine(error);
            }

            return code;
        }
    }
}
