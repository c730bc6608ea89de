namespace HaMaster.Server.Configuration;

/// <summary>
/// How callers on the client port prove who they are (<c>--auth</c>). <see cref="Simple"/> is the
/// default and trusts the <c>hamaster-user</c> / <c>hamaster-groups</c> headers: an INSECURE mode
/// for development. <see cref="Tls"/> and <see cref="Jwt"/> take the identity from the connection's
/// client certificate or the call's bearer token, and may be combined ("tls,jwt").
/// </summary>
[Flags]
public enum ClientAuthModes
{
    /// <summary>Identity from request headers, unverified (development only).</summary>
    Simple = 1,

    /// <summary>Client certificate chained to <c>--client-ca</c>; user = subject CN.</summary>
    Tls = 2,

    /// <summary>JWT bearer token in the <c>authorization</c> metadata; user = <c>sub</c> (or the configured claim).</summary>
    Jwt = 4,
}

/// <summary>Parsing and naming of <see cref="ClientAuthModes"/>.</summary>
public static class ClientAuthModesText
{
    /// <summary>Parses "simple", "tls", "jwt" or a comma list of tls and jwt (case-insensitive).</summary>
    public static ClientAuthModes Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        ClientAuthModes modes = 0;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            modes |= part.ToLowerInvariant() switch
            {
                "simple" => ClientAuthModes.Simple,
                "tls" => ClientAuthModes.Tls,
                "jwt" => ClientAuthModes.Jwt,
                _ => throw new ArgumentException($"ClientAuth (--auth) '{text}': '{part}' is not one of simple, tls, jwt"),
            };
        }

        if (modes == 0) throw new ArgumentException("ClientAuth (--auth) must name simple, tls, jwt or tls,jwt");
        if (modes.HasFlag(ClientAuthModes.Simple) && modes != ClientAuthModes.Simple)
        {
            throw new ArgumentException($"ClientAuth (--auth) '{text}': simple (header identity) cannot be combined with tls or jwt");
        }

        return modes;
    }

    /// <summary>"simple", "tls", "jwt" or "tls,jwt".</summary>
    public static string Name(ClientAuthModes modes) => modes == ClientAuthModes.Simple
        ? "simple"
        : string.Join(",", new[] { (ClientAuthModes.Tls, "tls"), (ClientAuthModes.Jwt, "jwt") }.Where(m => modes.HasFlag(m.Item1)).Select(m => m.Item2));
}
