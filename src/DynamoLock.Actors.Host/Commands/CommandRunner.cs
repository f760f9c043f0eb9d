using System.CommandLine;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Host.Commands;

/// <summary>Runs a command's body and turns failures into one clear line and an exit code (a stack trace only with --verbose).</summary>
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
            return Fail(command, e.Message, e, ExitCodes.Usage);
        }
        catch (ArgumentException e)
        {
            return Fail(command, e.Message, e, ExitCodes.Usage);
        }
        catch (LockTableException e)
        {
            return Fail(command, e.Message, e, ExitCodes.TableError);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"dynamolock {command}: interrupted.").ConfigureAwait(false);
            return ExitCodes.Interrupted;
        }
        catch (Exception e)
        {
            return Fail(command, $"{e.GetType().Name}: {e.Message}", e, ExitCodes.TableError);
        }

        int Fail(string name, string message, Exception error, int code)
        {
            Console.Error.WriteLine($"dynamolock {name}: {message}");
            if (parse.GetValue(common.Verbose))
            {
                Console.Error.WriteLine(error);
            }

            return code;
        }
    }
}
