using System.Globalization;

namespace HaMaster.Cli;

/// <summary>Parses human durations for flags: "250ms", "10s", "2m", "1h"; a bare number is seconds.</summary>
public static class Duration
{
    public static bool TryParse(string? text, out TimeSpan value) => TryParse(text, allowZero: false, out value);

    /// <summary>Like <see cref="TryParse(string?, out TimeSpan)"/>; with <paramref name="allowZero"/>, "0", "0s" etc. parse as zero.</summary>
    public static bool TryParse(string? text, bool allowZero, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.Trim().ToLowerInvariant();
        (string number, double scale) = s switch
        {
            _ when s.EndsWith("ms", StringComparison.Ordinal) => (s[..^2], 0.001),
            _ when s.EndsWith('s') => (s[..^1], 1.0),
            _ when s.EndsWith('m') => (s[..^1], 60.0),
            _ when s.EndsWith('h') => (s[..^1], 3600.0),
            _ => (s, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount < 0 || (amount == 0 && !allowZero) || double.IsInfinity(amount))
        {
            return false;
        }

        value = TimeSpan.FromSeconds(amount * scale);
        return true;
    }

    public static TimeSpan Parse(string text) =>
        TryParse(text, out var value) ? value : throw new FormatException($"'{text}' is not a duration (e.g. 500ms, 10s, 2m).");

    /// <summary>Like <see cref="Parse(string)"/>, naming the command-line option in the error.</summary>
    public static TimeSpan Parse(string text, string option) =>
        TryParse(text, out var value) ? value : throw new FormatException($"{option}: '{text}' is not a duration (e.g. 500ms, 10s, 2m).");

    /// <summary>Like <see cref="Parse(string, string)"/>, also accepting zero ("0s": none), for options such as a warm-up.</summary>
    public static TimeSpan ParseAllowingZero(string text, string option) =>
        TryParse(text, allowZero: true, out var value) ? value : throw new FormatException($"{option}: '{text}' is not a duration (e.g. 0s, 500ms, 10s).");
}
