using System.Diagnostics;

namespace DynamoLock.Actors.Chaos;

/// <summary>Finds <c>tools/local-dynamodb</c> and installs its pinned packages once, even when several test processes start at the same time.</summary>
public static class LocalDynamoDbTools
{
    private static readonly Lazy<string> LazyDirectory = new(FindDirectory);

    /// <summary>The folder holding <c>package.json</c>, <c>package-lock.json</c> and <c>serve.js</c>.</summary>
    public static string Directory => LazyDirectory.Value;

    /// <summary>Runs <c>npm ci</c> unless dynalite is installed already.</summary>
    public static Task EnsureInstalledAsync() => EnsureNpmPackagesAsync(Directory, "dynalite");

    /// <summary>
    /// Runs <c>npm ci --ignore-scripts</c> in <paramref name="directory"/> (its package-lock.json pins what is installed)
    /// unless <paramref name="markerPackage"/> is installed there already. Install scripts are skipped: the packages
    /// used here need no native build.
    /// </summary>
    public static async Task EnsureNpmPackagesAsync(string directory, string markerPackage)
    {
        var marker = Path.Combine(directory, "node_modules", markerPackage, "package.json");
        if (File.Exists(marker))
        {
            return;
        }

        // A lock file serialises installs between test processes (dotnet test runs test projects in parallel).
        await using var gate = await AcquireInstallLockAsync(directory).ConfigureAwait(false);
        if (File.Exists(marker))
        {
            return;
        }

        var start = new ProcessStartInfo("npm")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "ci", "--ignore-scripts", "--no-audit", "--no-fund" })
        {
            start.ArgumentList.Add(argument);
        }

        using var npm = Process.Start(start) ?? throw new InvalidOperationException("npm could not be started; install Node.js and npm.");
        var output = npm.StandardOutput.ReadToEndAsync();
        var error = npm.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await npm.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            npm.Kill(entireProcessTree: true);
            throw new TimeoutException($"npm ci in {directory} did not finish within 5 minutes.");
        }

        if (npm.ExitCode != 0)
        {
            throw new InvalidOperationException($"npm ci in {directory} failed with exit code {npm.ExitCode}: {await output.ConfigureAwait(false)}{await error.ConfigureAwait(false)}");
        }
    }

    private static async Task<FileStream> AcquireInstallLockAsync(string directory)
    {
        var path = Path.Combine(directory, ".install.lock");
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 600)
            {
                await Task.Delay(500).ConfigureAwait(false);
            }
        }
    }

    private static string FindDirectory()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "tools", "local-dynamodb");
                if (File.Exists(Path.Combine(candidate, "package.json")))
                {
                    return candidate;
                }
            }
        }

        throw new DirectoryNotFoundException($"tools/local-dynamodb (the pinned dynalite) was not found above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}; run from a clone of the repository, or pass --endpoint.");
    }
}
