using System.Diagnostics;

namespace DynamoLock.Actors.Chaos;

/// <summary>Finds <c>tools/local-dynamodb</c> and installs its pinned servers once, even when several test processes start at the same time.</summary>
public static class LocalDynamoDbTools
{
    private static readonly Lazy<string> LazyDirectory = new(FindDirectory);

    /// <summary>The folder holding <c>package.json</c>, <c>package-lock.json</c>, <c>serve.js</c> and <c>serve-dynamodb-local.js</c>.</summary>
    public static string Directory => LazyDirectory.Value;

    /// <summary>Where <c>install-dynamodb-local.js</c> puts DynamoDB Local (<c>DynamoDBLocal.jar</c>, <c>DynamoDBLocal_lib</c>).</summary>
    public static string DynamoDbLocalDirectory => Path.Combine(Directory, "dynamodb-local");

    /// <summary>Runs <c>npm ci</c> unless dynalite is installed already.</summary>
    public static Task EnsureInstalledAsync() => EnsureNpmPackagesAsync(Directory, "dynalite");

    /// <summary>
    /// Runs <c>node install-dynamodb-local.js</c> (which fetches the pinned, hash-checked npm tarball that ships DynamoDB
    /// Local and unpacks its Java server) unless it has run already. The script takes its own lock, so concurrent callers
    /// are safe; its marker file says the install is complete.
    /// </summary>
    public static async Task EnsureDynamoDbLocalInstalledAsync(CancellationToken cancellationToken = default)
    {
        // The marker holds the hash the install was checked against: a changed pin installs again.
        var marker = Path.Combine(DynamoDbLocalDirectory, ".installed");
        var pinned = Path.Combine(Directory, "dynamodb-local.integrity");
        if (File.Exists(marker) && (await File.ReadAllTextAsync(marker, cancellationToken).ConfigureAwait(false)).Trim() == (await File.ReadAllTextAsync(pinned, cancellationToken).ConfigureAwait(false)).Trim())
        {
            return;
        }

        await RunAsync("node", ["install-dynamodb-local.js"], Directory, "installing DynamoDB Local (node install-dynamodb-local.js)", cancellationToken).ConfigureAwait(false);
    }

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

        await RunAsync("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], directory, $"npm ci in {directory}", CancellationToken.None).ConfigureAwait(false);
    }

    private static async Task RunAsync(string fileName, IEnumerable<string> arguments, string directory, string what, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} could not be started; install Node.js and npm.");
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(10));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new TimeoutException($"{what} did not finish within 10 minutes.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{what} failed with exit code {process.ExitCode}: {await output.ConfigureAwait(false)}{await error.ConfigureAwait(false)}");
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

        throw new DirectoryNotFoundException($"tools/local-dynamodb (the pinned local DynamoDB servers) was not found above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}; run from a clone of the repository, or pass --endpoint.");
    }
}
