using System.Globalization;
using System.Text.RegularExpressions;

namespace DynamoLock.Actors.Host.Commands;

/// <summary>Parses durations as operators write them: <c>20s</c>, <c>500ms</c>, <c>2m</c>, <c>1h30m</c>, or <c>00:00:20</c>.</summary>
internal static partial class Durations
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        if (text.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);
        }

        var matches = Part().Matches(text);
        if (matches.Count == 0 || string.Concat(matches.Select(m => m.Value)) != text)
        {
            return false;
        }

        double milliseconds = 0;
        foreach (Match match in matches)
        {
            var number = double.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
            milliseconds += number * match.Groups["u"].Value switch
            {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                _ => 0,
            };
        }

        // Absurd values are rejected by the caller's range check, not by an overflow.
        if (milliseconds > TimeSpan.MaxValue.TotalMilliseconds / 2)
        {
            return false;
        }

        value = TimeSpan.FromMilliseconds(milliseconds);
        return true;
    }

    public static string Format(TimeSpan value) => value switch
    {
        _ when value < TimeSpan.FromSeconds(1) => $"{value.TotalMilliseconds:0}ms",
        _ when value < TimeSpan.FromMinutes(1) => $"{value.TotalSeconds:0.#}s",
        _ when value < TimeSpan.FromHours(1) => $"{value.TotalMinutes:0.#}m",
        _ => $"{value.TotalHours:0.#}h",
    };

    [GeneratedRegex(@"(?<n>\d+(\.\d+)?)(?<u>ms|s|m|h)")]
    private static partial Regex Part();
}
