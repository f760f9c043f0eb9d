using System.CommandLine;
using DynamoLock.Actors.Chaos;

namespace DynamoLock.Actors.Host.Commands;

/// <summary>
/// <c>dynamolock local-dynamodb [--server dynalite|dynamodb-local] [--port N]</c>: runs a local DynamoDB API server from
/// <c>tools/local-dynamodb</c> (installed on first use) in the foreground on 127.0.0.1 until Ctrl-C or SIGTERM. Prints one
/// line, <c>listening on http://127.0.0.1:PORT</c>, on standard output (for scripts), and how to use it on standard error.
/// </summary>
internal static class LocalDynamoDbCommand
{
    public static Command Create(CommonOptions common)
    {
        var server = new Option<string>("--server") { Description = "dynalite (Node.js) or dynamodb-local (AWS's DynamoDB Local, needs Java 17).", DefaultValueFactory = _ => "dynalite" };
        server.AcceptOnlyFromAmong([.. LocalDynamoDbServerKinds.Names]);
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1; 0 picks a free one.", DefaultValueFactory = _ => 0 };
        var command = new Command("local-dynamodb", "Run a local DynamoDB API server (in memory) for development, from a clone of the repository, until Ctrl-C.") { server, port };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, common, "local-dynamodb", async () =>
        {
            var portNumber = parse.GetValue(port);
            if (portNumber is < 0 or > 65535)
            {
                throw new UsageException($"--port must be 0..65535 (got {portNumber}).");
            }

            LocalDynamoDbServerKinds.TryParse(parse.GetValue(server), out var kind);
            LocalDynamoDbServer running;
            try
            {
                running = await LocalDynamoDbServer.StartAsync(kind, portNumber, ct).ConfigureAwait(false);
            }
            catch (DirectoryNotFoundException e)
            {
                // Installed as a global tool, away from a clone: there is nothing to start the server from.
                throw new UsageException(e.Message);
            }

            using (running)
            {
                Console.WriteLine($"listening on {running.Endpoint}");
                await Console.Error.WriteLineAsync($"""
                    {kind.DisplayName()} (pid {running.ProcessId}) runs in memory until Ctrl-C; its tables go with it. In another shell:
                      export AWS_ENDPOINT_URL_DYNAMODB={running.Endpoint} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
                      dynamolock create-table
                      export DYNAMOLOCK_DYNAMODB_ENDPOINT={running.Endpoint} DYNAMOLOCK_LOCAL_SERVER={kind.Name()}   # for dotnet test
                    """).ConfigureAwait(false);
                try
                {
                    var exitCode = await running.WaitForExitAsync(ct).ConfigureAwait(false);
                    await Console.Error.WriteLineAsync($"dynamolock local-dynamodb: {kind.DisplayName()} stopped by itself (exit code {exitCode}).").ConfigureAwait(false);
                    return ExitCodes.TableError;
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    // Ctrl-C or SIGTERM is how this command is meant to end: stop the server (Dispose) and exit 0.
                    await Console.Error.WriteLineAsync($"dynamolock local-dynamodb: stopping {kind.DisplayName()}.").ConfigureAwait(false);
                    return ExitCodes.Ok;
                }
            }
        }, ct));
        return command;
    }
}
