using System.Diagnostics;
using System.Globalization;
using DynamoLock.Actors.Chaos.Simulation;

namespace DynamoLock.Actors.Chaos;

/// <summary>The shape of a chaos run with separate worker processes.</summary>
public sealed record ProcessChaosRunOptions
{
    /// <summary>The DynamoDB endpoint.</summary>
    public required string Endpoint { get; init; }

    /// <summary>Starts a worker: the file to run and its arguments before the worker's own (e.g. <c>dotnet dynamolock.dll chaos-worker</c>).</summary>
    public required (string FileName, string[] Arguments) WorkerCommand { get; init; }

    /// <summary>The lock table (the workers create it if missing).</summary>
    public string TableName { get; init; } = "dynamolock-chaos";

    /// <summary>Worker processes alive at a time.</summary>
    public int Processes { get; init; } = 3;

    /// <summary>Keys competed for.</summary>
    public int Keys { get; init; } = 2;

    /// <summary>How long the run lasts.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Seed of every random choice.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>How often a process is SIGKILLed (then replaced) or SIGSTOPped for 1.5 leases (then SIGCONTed).</summary>
    public TimeSpan FaultEvery { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The workers' lease (their settings are <see cref="ChaosRunOptions.Settings"/>'s).</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Which worker processes hold their locks under sessions: none (the default), every one, or with
    /// <see cref="SessionUse.Mixed"/> the odd-numbered ones in the order they are started (replacements included).
    /// </summary>
    public SessionUse Sessions { get; init; } = SessionUse.Never;

    /// <summary>
    /// Clock rates of the workers' monotonic clocks, by slot: the first entry is the first process's and that of every
    /// process that replaces it, and so on (missing entries are exact). See <see cref="ChaosRunOptions.ClockRates"/>.
    /// </summary>
    public IReadOnlyList<double> ClockRates { get; init; } = [];
}

/// <summary>
/// A chaos run whose clients are separate OS processes (<c>dynamolock chaos-worker</c>), which the harness SIGKILLs and
/// SIGSTOPs for longer than the lease: the process-level faults an in-process run cannot inject. Worker histories use the
/// machine's wall clock, the one clock the processes share.
/// </summary>
public static class ProcessChaosRun
{
    /// <summary>Runs <paramref name="options"/> and checks the merged history.</summary>
    public static async Task<ChaosResult> RunAsync(ProcessChaosRunOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var history = new History(() => History.WallClockMs);
        var random = new Random(options.Seed);
        var live = new List<(string Name, Process Process)>();
        var faults = new Dictionary<FaultKind, int>();
        var started = 0;

        (string, Process) Start(int slot)
        {
            var name = $"proc-{++started}";
            var start = new ProcessStartInfo(options.WorkerCommand.FileName)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in options.WorkerCommand.Arguments.Concat(
                         ["--endpoint", options.Endpoint, "--table", options.TableName, "--name", name, "--keys", options.Keys.ToString(CultureInfo.InvariantCulture), "--seed", (options.Seed + started).ToString(CultureInfo.InvariantCulture)]))
            {
                start.ArgumentList.Add(argument);
            }

            if (ChaosRunOptions.UsesSessions(options.Sessions, started))
            {
                start.ArgumentList.Add("--sessions");
            }

            if (slot < options.ClockRates.Count && options.ClockRates[slot] != 1.0)
            {
                start.ArgumentList.Add("--clock-rate");
                start.ArgumentList.Add(options.ClockRates[slot].ToString(CultureInfo.InvariantCulture));
            }

            var process = Process.Start(start) ?? throw new InvalidOperationException("a worker process did not start.");
            _ = Task.Run(async () =>
            {
                while (await process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
                {
                    if (History.FromJson(line) is { } e)
                    {
                        history.Add(e);
                    }
                }
            });
            _ = process.StandardError.ReadToEndAsync();
            return (name, process);
        }

        try
        {
            for (var i = 0; i < options.Processes; i++)
            {
                live.Add(Start(i));
            }

            log?.Invoke($"{options.Processes} worker processes on {options.Keys} keys for {options.Duration}, seed {options.Seed}"
                + (options.ClockRates.Count == 0 ? string.Empty : $", clock rates {string.Join(", ", options.ClockRates)}")
                + ChaosRun.SessionsNote(options.Sessions, "worker processes"));
            var clock = Stopwatch.StartNew();
            var nextFault = options.FaultEvery;
            while (clock.Elapsed < options.Duration && !cancellationToken.IsCancellationRequested)
            {
                if (clock.Elapsed >= nextFault)
                {
                    nextFault += options.FaultEvery;
                    var index = random.Next(live.Count);
                    var (name, process) = live[index];
                    if (random.NextDouble() < 0.5)
                    {
                        process.Kill(entireProcessTree: true);
                        await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);

                        // Recorded once it is dead: nothing it recorded can come later.
                        history.Record(name, "killed", string.Empty);
                        faults[FaultKind.ProcessKilled] = faults.GetValueOrDefault(FaultKind.ProcessKilled) + 1;
                        live[index] = Start(index);
                        log?.Invoke($"{clock.Elapsed.TotalSeconds:F1}s: {name} SIGKILLed, {live[index].Name} started");
                    }
                    else
                    {
                        var pause = options.Lease * 1.5;
                        await SignalAsync(process.Id, "STOP").ConfigureAwait(false);
                        history.Record(name, "paused", string.Empty);
                        faults[FaultKind.ProcessPaused] = faults.GetValueOrDefault(FaultKind.ProcessPaused) + 1;
                        log?.Invoke($"{clock.Elapsed.TotalSeconds:F1}s: {name} SIGSTOPped for {pause.TotalSeconds:F1}s");
                        _ = Task.Delay(pause, CancellationToken.None).ContinueWith(async _ =>
                        {
                            await SignalAsync(process.Id, "CONT").ConfigureAwait(false);
                            history.Record(name, "resumed", string.Empty);
                        }, TaskScheduler.Default);
                    }
                }

                await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None).ConfigureAwait(false);
            }

            // Wait out any pause, then let every worker release and exit (it stops when its standard input closes).
            await Task.Delay(options.Lease * 1.6, CancellationToken.None).ConfigureAwait(false);
            foreach (var (_, process) in live)
            {
                await SignalAsync(process.Id, "CONT").ConfigureAwait(false);
                process.StandardInput.Close();
            }

            foreach (var (_, process) in live)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                try
                {
                    await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
        }
        finally
        {
            foreach (var (_, process) in live)
            {
                try
                {
                    if (!process.HasExited)
                    {
                        process.Kill(entireProcessTree: true);
                    }
                }
                catch (InvalidOperationException)
                {
                }
            }
        }

        return new ChaosResult(history, HistoryChecker.Check(history.Events), faults, 0);
    }

    private static async Task SignalAsync(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, pid.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false, RedirectStandardError = true });
        if (kill is not null)
        {
            await kill.WaitForExitAsync().ConfigureAwait(false);
        }
    }
}
