using System.Globalization;
using HaMaster.Protos.V1;

namespace HaMaster.Cli;

/// <summary>How the command line reads and writes times to live ("7d", "30s") and TTL actions.</summary>
internal static class TtlText
{
    // The server's limit (InputLimits.MaxTtlMs, docs/api-limits.md): 100 years of 365 days.
    private const long MaxTtlMs = 100L * 365 * 24 * 3600 * 1000;

    /// <summary>Parses "0" or a positive duration with ms/s/m/h/d (bare number = seconds) into milliseconds.</summary>
    public static bool TryParse(string text, out long ms)
    {
        ms = 0;
        var s = text.Trim().ToLowerInvariant();
        if (s == "0") return true;
        TimeSpan value;
        if (s.EndsWith('d') && double.TryParse(s[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var days) && days > 0 && days <= 36_500)
        {
            value = TimeSpan.FromDays(days);
        }
        else if (!Duration.TryParse(s, out value))
        {
            return false;
        }

        if (value.TotalMilliseconds is < 1 or > MaxTtlMs) return false;
        ms = (long)value.TotalMilliseconds;
        return true;
    }

    public static string ActionName(TtlAction action) => action switch
    {
        TtlAction.Delete => "delete",
        TtlAction.Free => "free",
        _ => ((int)action).ToString(CultureInfo.InvariantCulture),
    };

    public static string Format(long ms) => TimeSpan.FromMilliseconds(ms) switch
    {
        { TotalDays: >= 1 } t when t.TotalDays == Math.Floor(t.TotalDays) => $"{t.TotalDays:0}d",
        { TotalHours: >= 1 } t when t.TotalHours == Math.Floor(t.TotalHours) => $"{t.TotalHours:0}h",
        { TotalMinutes: >= 1 } t when t.TotalMinutes == Math.Floor(t.TotalMinutes) => $"{t.TotalMinutes:0}m",
        { TotalSeconds: >= 1 } t when t.TotalSeconds == Math.Floor(t.TotalSeconds) => $"{t.TotalSeconds:0}s",
        _ => $"{ms}ms",
    };
}
