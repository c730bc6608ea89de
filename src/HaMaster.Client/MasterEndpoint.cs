namespace HaMaster.Client;

/// <summary>Parses and normalises master client addresses ("host:port", optionally with an http:// or https:// prefix).</summary>
public static class MasterEndpoint
{
    /// <summary>Returns "host:port" for a valid address; throws <see cref="ArgumentException"/> otherwise.</summary>
    public static string Normalize(string address)
    {
        if (!TryNormalize(address, out var normalized))
        {
            throw new ArgumentException($"'{address}' is not a master address of the form host:port.", nameof(address));
        }

        return normalized;
    }

    /// <summary>Normalises without throwing (used for addresses received from masters).</summary>
    public static bool TryNormalize(string? address, out string normalized)
    {
        normalized = string.Empty;
        if (string.IsNullOrWhiteSpace(address))
        {
            return false;
        }

        var text = address.Trim();
        if (text.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            text = text["http://".Length..];
        }
        else if (text.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            text = text["https://".Length..];
        }

        text = text.TrimEnd('/');
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
        {
            return false;
        }

        if (!ushort.TryParse(text.AsSpan(colon + 1), out var port) || port == 0)
        {
            return false;
        }

        if (Uri.CheckHostName(text[..colon].Trim('[', ']')) == UriHostNameType.Unknown)
        {
            return false;
        }

        normalized = text;
        return true;
    }

    /// <summary>Splits a comma-separated list ("a:1,b:2") into normalised addresses.</summary>
    public static IReadOnlyList<string> ParseList(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Normalize).ToArray();

    /// <summary>The HTTP/2 cleartext URI a channel to <paramref name="address"/> connects to.</summary>
    public static Uri ToUri(string address) => new("http://" + Normalize(address));

    /// <summary>The URI of <paramref name="address"/>: https:// when <paramref name="tls"/>, else http://.</summary>
    public static Uri ToUri(string address, bool tls) => new((tls ? "https://" : "http://") + Normalize(address));
}
