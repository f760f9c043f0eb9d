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

    /// <summary>A duration in the one style every message of the library and the tool uses (<c>8s</c>, <c>500ms</c>, <c>2m</c>).</summary>
    public static string Format(TimeSpan value) => HumanText.Duration(value);

    /// <summary>A duration for display with one decimal at most (<c>38.9s</c>), since ages from wall clocks are not more precise.</summary>
    public static string FormatAge(TimeSpan value) => HumanText.Duration(value < TimeSpan.FromSeconds(1)
        ? TimeSpan.FromMilliseconds(Math.Round(value.TotalMilliseconds))
        : value < TimeSpan.FromMinutes(1) ? TimeSpan.FromSeconds(Math.Round(value.TotalSeconds, 1)) : TimeSpan.FromSeconds(Math.Round(value.TotalSeconds)));

    [GeneratedRegex(@"(?<n>\d+(\.\d+)?)(?<u>ms|s|m|h)")]
    private static partial Regex Part();
}

/// <summary>
/// A duration option's value. Its own type (rather than <see cref="TimeSpan"/>) so that help prints each default once and
/// in the style people type it (<c>[default: 20s]</c>, not <c>00:00:20</c>): help shows a default through its ToString.
/// </summary>
internal readonly record struct CliDuration(TimeSpan Value)
{
    public override string ToString() => Durations.Format(Value);
}

