using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace HaMaster.Ops.Tests.Infrastructure;

/// <summary>
/// HS256 JSON Web Tokens made at test time for masters started with <c>--auth jwt
/// --jwt-key-file</c>: a random 32-byte secret written to a temporary file, and tokens signed with
/// it (or deliberately wrong ones). Written by hand (RFC 7519 compact form) so the tests do not
/// share the server's token library.
/// </summary>
public sealed class TestTokens : IDisposable
{
    public const string Issuer = "hamaster-tests";
    public const string Audience = "hamaster";

    private readonly byte[] _secret;
    private readonly string _directory;

    public TestTokens()
    {
        _directory = Directory.CreateTempSubdirectory("hamaster-jwt-").FullName;
        // Printable secret (hex), so the file is what an operator would write with a text editor.
        _secret = Encoding.ASCII.GetBytes(Convert.ToHexString(RandomNumberGenerator.GetBytes(32)));
        KeyPath = Path.Combine(_directory, "jwt.key");
        File.WriteAllText(KeyPath, Encoding.ASCII.GetString(_secret) + "\n");
    }

    /// <summary>The file to give the masters as <c>--jwt-key-file</c>.</summary>
    public string KeyPath { get; }

    /// <summary>The masters' flags for this key, issuer and audience.</summary>
    public string[] ServerArguments => ["--auth", "jwt", "--jwt-key-file", KeyPath, "--jwt-issuer", Issuer, "--jwt-audience", Audience];

    /// <summary>A valid token for <paramref name="user"/> (claim sub), with a groups claim when given.</summary>
    public string For(string user, string[]? groups = null, TimeSpan? lifetime = null, string audience = Audience, byte[]? key = null)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var expires = now + (long)(lifetime ?? TimeSpan.FromHours(1)).TotalSeconds;
        var payload = new Dictionary<string, object>
        {
            ["sub"] = user,
            ["iss"] = Issuer,
            ["aud"] = audience,
            ["iat"] = Math.Min(now, expires - 60),
            ["nbf"] = Math.Min(now, expires) - 60,
            ["exp"] = expires,
        };
        if (groups is not null)
        {
            payload["groups"] = groups;
        }

        return Sign(payload, key ?? _secret);
    }

    /// <summary>A token that expired ten minutes ago (beyond the masters' one-minute clock skew).</summary>
    public string Expired(string user) => For(user, lifetime: TimeSpan.FromMinutes(-10));

    /// <summary>A token for <paramref name="user"/> signed with another key.</summary>
    public string SignedWithAnotherKey(string user) => For(user, key: RandomNumberGenerator.GetBytes(32));

    private static string Sign(Dictionary<string, object> payload, byte[] key)
    {
        var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["alg"] = "HS256", ["typ"] = "JWT" }));
        var body = Base64Url(JsonSerializer.SerializeToUtf8Bytes(payload));
        var signature = Base64Url(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes($"{header}.{body}")));
        return $"{header}.{body}.{signature}";
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the temp cleaner takes it.
        }
    }
}
