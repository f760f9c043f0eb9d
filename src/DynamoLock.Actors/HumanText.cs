using System.Globalization;
using System.Text;

namespace DynamoLock.Actors;

/// <summary>
/// How durations and keys read in every message this library and its tool write: one style for durations
/// (<c>8s</c>, <c>500ms</c>, <c>2m</c>, <c>1.5h</c>) and long keys shortened, so that no message shows
/// <c>00:00:08</c> in one place and <c>8000 ms</c> in another, or five kilobytes of key.
/// </summary>
internal static class HumanText
{
    /// <summary>Keys longer than this many characters are shortened in messages.</summary>
    public const int MaxKeyLength = 64;

    /// <summary>A duration as people write it: <c>500ms</c>, <c>8s</c>, <c>2.5s</c>, <c>2m</c>, <c>1.5h</c>, <c>3d</c>; <c>infinite</c> for <see cref="Timeout.InfiniteTimeSpan"/>.</summary>
    public static string Duration(TimeSpan value)
    {
        if (value == Timeout.InfiniteTimeSpan)
        {
            return "infinite";
        }

        var sign = value < TimeSpan.Zero ? "-" : string.Empty;
        var abs = value.Duration();
        return sign + (abs switch
        {
            _ when abs < TimeSpan.FromSeconds(1) => Number(abs.TotalMilliseconds, "0.###") + "ms",
            _ when abs < TimeSpan.FromMinutes(1) => Number(abs.TotalSeconds, "0.###") + "s",
            _ when abs < TimeSpan.FromHours(1) => Number(abs.TotalMinutes, "0.##") + "m",
            _ when abs < TimeSpan.FromDays(1) => Number(abs.TotalHours, "0.##") + "h",
            _ => Number(abs.TotalDays, "0.##") + "d",
        });
    }

    /// <summary>A key for a message, in quotes: as it is up to <see cref="MaxKeyLength"/> characters, else its start and its size.</summary>
    public static string Key(string? key)
    {
        if (key is null)
        {
            return "(no key)";
        }

        if (key.Length <= MaxKeyLength)
        {
            return $"'{key}'";
        }

        return $"'{key[..MaxKeyLength]}…' ({Encoding.UTF8.GetByteCount(key).ToString(CultureInfo.InvariantCulture)} bytes)";
    }

    /// <summary>
    /// What went wrong, as one line for people: an <see cref="ArgumentException"/>'s message without .NET's
    /// <c>(Parameter 'x')</c> and <c>Actual value was …</c> additions; other exceptions' first message line.
    /// </summary>
    public static string Problem(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var message = error.Message;
        var newline = message.IndexOfAny(['\r', '\n']);
        if (newline >= 0)
        {
            message = message[..newline];
        }

        if (error is ArgumentException { ParamName: { } name })
        {
            var suffix = $" (Parameter '{name}')";
            if (message.EndsWith(suffix, StringComparison.Ordinal))
            {
                message = message[..^suffix.Length];
            }
        }

        return message.Trim();
    }

    /// <summary>A sentence made to follow a colon: its first letter lower-cased, unless it starts an acronym or a name in quotes.</summary>
    public static string Uncapitalised(string text) =>
        text.Length > 1 && char.IsUpper(text[0]) && !char.IsUpper(text[1]) ? char.ToLowerInvariant(text[0]) + text[1..] : text;

    private static string Number(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
