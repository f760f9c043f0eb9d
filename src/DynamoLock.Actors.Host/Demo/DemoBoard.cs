using System.Collections.Concurrent;
using DynamoLock.Actors.Chaos;
using Spectre.Console;

namespace DynamoLock.Actors.Host.Demo;

/// <summary>What the demo shows: who holds which key, the counts, the recent events, and a mutual-exclusion check.</summary>
internal sealed class DemoBoard(IReadOnlyList<string> keys)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, (string Holder, long Token)> _holders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _grants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _lastNode = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _events = new();
    private volatile bool _shuttingDown;

    public int Acquisitions { get; private set; }

    public int NodeChanges { get; private set; }

    public int Losses { get; private set; }

    /// <summary>Locks the nodes gave back while shutting down: a holder hears LockLost(Revoked) first, but nothing went wrong.</summary>
    public int ReleasedAtShutdown { get; private set; }

    /// <summary>Set before the nodes shut down, so their revocations are not counted as losses.</summary>
    public bool ShuttingDown
    {
        get => _shuttingDown;
        set => _shuttingDown = value;
    }

    public int Violations { get; private set; }

    public string Phase { get; set; } = "running";

    public void Acquired(string key, string holder, long token)
    {
        lock (_gate)
        {
            if (_holders.TryGetValue(key, out var current))
            {
                Violations++;
                Log($"[red]VIOLATION[/] {Markup.Escape(holder)} got {Markup.Escape(key)} while {Markup.Escape(current.Holder)} held it");
            }

            _holders[key] = (holder, token);
            Acquisitions++;
            _grants[key] = _grants.GetValueOrDefault(key) + 1;
            // A node change: this key was last granted to a worker on another node (it crossed nodes through the table).
            var node = holder.Split('/')[0];
            if (_lastNode.TryGetValue(key, out var previous) && previous != node)
            {
                NodeChanges++;
            }

            _lastNode[key] = node;
        }
    }

    public bool Holds(string holderPrefix)
    {
        lock (_gate)
        {
            return _holders.Values.Any(h => h.Holder.StartsWith(holderPrefix, StringComparison.Ordinal));
        }
    }

    public void Releasing(string key, string holder)
    {
        lock (_gate)
        {
            if (_holders.TryGetValue(key, out var current) && current.Holder == holder)
            {
                _holders.Remove(key);
            }
        }
    }

    public void Lost(string key, string holder, long token, LockLossReason reason)
    {
        var atShutdown = _shuttingDown && reason == LockLossReason.Revoked;
        lock (_gate)
        {
            if (atShutdown)
            {
                ReleasedAtShutdown++;
            }
            else
            {
                Losses++;
            }

            if (_holders.TryGetValue(key, out var current) && current.Holder == holder)
            {
                _holders.Remove(key);
            }
        }

        if (atShutdown)
        {
            return;
        }

        Log($"[yellow]lost[/] {Markup.Escape(key)} by {Markup.Escape(holder)} (token {token}): {reason}, told before anyone could take it over");
    }

    public void Log(string markup)
    {
        _events.Enqueue($"[grey]{DateTime.Now:HH:mm:ss.fff}[/] {markup}");
        while (_events.Count > 8 && _events.TryDequeue(out _))
        {
        }
    }

    public Spectre.Console.Rendering.IRenderable Render(FencedResource resource)
    {
        var table = new Spectre.Console.Table().Border(TableBorder.Rounded).Title($"[bold]dynamolock demo[/] — {Markup.Escape(Phase)}");
        table.AddColumn("key");
        table.AddColumn("holder");
        table.AddColumn(new TableColumn("fencing token").RightAligned());
        table.AddColumn(new TableColumn("grants").RightAligned());
        lock (_gate)
        {
            foreach (var key in keys)
            {
                var held = _holders.TryGetValue(key, out var h);
                table.AddRow(
                    Markup.Escape(key),
                    held ? $"[green]{Markup.Escape(h.Holder)}[/]" : "[grey]free[/]",
                    held ? h.Token.ToString(System.Globalization.CultureInfo.InvariantCulture) : "",
                    _grants.GetValueOrDefault(key).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        var summary = new Markup(Summary(resource));
        var events = new Rows(_events.Select(e => new Markup(e)).ToArray<Spectre.Console.Rendering.IRenderable>());
        return new Rows(table, summary, new Panel(events).Header("events").Border(BoxBorder.Rounded));
    }

    public string Summary(FencedResource resource) =>
        $"acquisitions [bold]{Acquisitions}[/], node changes [bold]{NodeChanges}[/] (a key granted on another node than its previous holder's), " +
        $"losses [bold]{Losses}[/] (each told to its holder before anyone else got the key){(ReleasedAtShutdown > 0 ? $", released at shutdown [bold]{ReleasedAtShutdown}[/]" : string.Empty)}, " +
        $"fenced writes accepted [bold]{resource.Accepted}[/] / rejected [bold]{resource.Rejected}[/] (a stale holder's write, refused by its fencing token), " +
        $"mutual-exclusion violations [bold]{Violations}[/]";
}
