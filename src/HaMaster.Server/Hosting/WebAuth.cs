using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;

namespace HaMaster.Server.Hosting;

/// <summary>
/// Authentication of the web port's <c>/api/*</c> endpoints. Security is on when a cluster secret
/// is configured or callers authenticate (<c>--auth tls|jwt</c>); then <c>/api/status</c>,
/// <c>/api/cluster</c> and <c>/api/digest</c> need a credential: the cluster secret (as
/// <c>Authorization: Bearer SECRET</c> or header <c>hamaster-cluster-secret</c>, compared in
/// constant time) or, with <c>--auth jwt</c>, a bearer token the client port would accept. The web
/// port is plain HTTP, so client certificates cannot be used on it: with neither a secret nor
/// tokens configured, only loopback callers are served. <c>--open-status-api</c> lets loopback
/// callers read <c>/api/status</c> and <c>/api/cluster</c> without a credential (a development
/// machine's browser); <c>/api/digest</c> keeps needing one. With security off, the status APIs are
/// open and the digest is served to loopback callers only. The probes (<c>/healthz</c>,
/// <c>/readyz</c>), <c>/metrics</c> and the page itself (<c>/</c>, static HTML) are always open.
/// Thread-safe.
/// </summary>
internal sealed class WebAuth
{
    private readonly byte[]? _secret;
    private readonly bool _tokens;
    private readonly bool _secured;
    private readonly bool _openStatusToLoopback;

    /// <param name="secret">The cluster secret, or null.</param>
    /// <param name="tokens">Bearer tokens (JWT) are accepted: the JwtBearer handler is registered in the web app.</param>
    /// <param name="secured">A secret or caller authentication is configured.</param>
    /// <param name="openStatusToLoopback"><c>--open-status-api</c>.</param>
    public WebAuth(string? secret, bool tokens, bool secured, bool openStatusToLoopback)
    {
        _secret = secret is null ? null : Encoding.UTF8.GetBytes(secret);
        _tokens = tokens;
        _secured = secured;
        _openStatusToLoopback = openStatusToLoopback;
    }

    /// <summary>For <c>/api/status</c> and <c>/api/cluster</c>: true when the caller may proceed, else a 401 has been written.</summary>
    public async ValueTask<bool> AllowStatusAsync(HttpContext http)
    {
        if (!_secured || (_openStatusToLoopback && IsLoopback(http))) return true;
        return await AllowAsync(http).ConfigureAwait(false);
    }

    /// <summary>For <c>/api/digest</c>: true when the caller may proceed, else a 401 has been written.</summary>
    public ValueTask<bool> AllowDigestAsync(HttpContext http) => AllowAsync(http);

    private async ValueTask<bool> AllowAsync(HttpContext http)
    {
        var reason = await RefusalAsync(http).ConfigureAwait(false);
        if (reason is null) return true;
        http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        http.Response.Headers.WWWAuthenticate = "Bearer realm=\"hamaster\"";
        http.Response.ContentType = "text/plain; charset=utf-8";
        await http.Response.WriteAsync(reason + "\n", http.RequestAborted).ConfigureAwait(false);
        return false;
    }

    /// <summary>Null when the caller presented an accepted credential (or none can be checked and it is local); else why not.</summary>
    private async ValueTask<string?> RefusalAsync(HttpContext http)
    {
        if (_secret is null && !_tokens)
        {
            return IsLoopback(http) ? null : "no cluster secret or bearer tokens are configured: this endpoint is served to loopback callers only";
        }

        var given = Presented(http.Request);
        if (given is null)
        {
            return _secret is not null
                ? "authentication required: send the cluster secret as 'Authorization: Bearer <secret>'" + (_tokens ? " or a bearer token" : "")
                : "authentication required: send a bearer token as 'Authorization: Bearer <JWT>'";
        }

        if (_secret is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), _secret)) return null;
        if (_tokens && http.Request.Headers.Authorization.Count > 0)
        {
            var result = await http.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme).ConfigureAwait(false);
            if (result.Succeeded) return null;
            return _secret is not null ? "neither the cluster secret nor a valid bearer token" : "the bearer token was not accepted";
        }

        return "the cluster secret does not match";
    }

    private static bool IsLoopback(HttpContext http) => http.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip);

    private static string? Presented(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return authorization[7..].Trim();
        var header = request.Headers[Peers.PeerAuth.SecretHeader].ToString();
        return header.Length > 0 ? header : null;
    }
}
