using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using DynamoLock.Actors.Chaos;

namespace DynamoLock.Actors.Benchmarks.Report;

/// <summary>Reads what the report says about the machine, the runtime, the server and the commit.</summary>
internal static class RunEnvironmentProbe
{
    public static RunEnvironment Read(bool quick, string? endpoint, LocalDynamoDbServerKind server) => new(
        DateTimeOffset.UtcNow,
        quick,
        RuntimeInformation.OSDescription,
        CpuModel(),
        Environment.ProcessorCount,
        $".NET {Environment.Version} ({RuntimeInformation.ProcessArchitecture})",
        endpoint is not null ? endpoint : Describe(server),
        Commit(),
        endpoint is not null ? "the given endpoint" : server.DisplayName());

    /// <summary>The server with its version, as the report's environment table shows it.</summary>
    public static string Describe(LocalDynamoDbServerKind server) => server == LocalDynamoDbServerKind.Dynalite
        ? $"dynalite {DynaliteVersion()} (in memory, Node.js {Run("node", "--version") ?? "?"})"
        : "DynamoDB Local 1.25.1 (AWS's, from npm amplify-dynamodb-simulator 2.9.30; in memory, -sharedDb, Java)";

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line?[(line.IndexOf(':') + 1)..].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    private static string DynaliteVersion()
    {
        var path = Path.Combine(LocalDynamoDbTools.Directory, "node_modules", "dynalite", "package.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("version").GetString() ?? "?";
    }

    private static string Commit()
    {
        var commit = Run("git", "rev-parse --short HEAD") ?? "unknown";
        var dirty = Run("git", "status --porcelain --untracked-files=no") is { Length: > 0 };
        return dirty ? $"{commit} (with uncommitted changes)" : commit;
    }

    private static string? Run(string program, string arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
