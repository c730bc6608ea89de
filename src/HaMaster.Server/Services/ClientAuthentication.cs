using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using HaMaster.Server.Configuration;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Certificate;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace HaMaster.Server.Services;

/// <summary>
/// ASP.NET Core authentication of callers on the client port (issue 17): client certificates
/// (<see cref="ClientAuthModes.Tls"/>: user = subject CN, groups from the <see cref="GroupMapping"/>)
/// and JWT bearer tokens (<see cref="ClientAuthModes.Jwt"/>: user = the configured claim, groups
/// from the groups claim or the mapping). Both handlers turn what they verified into one principal
/// shape (<see cref="UserClaim"/>, <see cref="GroupClaim"/>) that
/// <see cref="AuthenticatedCallerInterceptor"/> turns into the call's <c>Caller</c>.
/// Everything here is built once at start-up from <see cref="MasterOptions"/>.
/// </summary>
internal sealed class ClientAuthentication
{
    public const string UserClaim = "hamaster.user";
    public const string GroupClaim = "hamaster.group";

    private static readonly string[] AsymmetricAlgorithms =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    private static readonly string[] HmacAlgorithms = [SecurityAlgorithms.HmacSha256, SecurityAlgorithms.HmacSha384, SecurityAlgorithms.HmacSha512];

    private readonly MasterOptions _options;
    private readonly X509Certificate2Collection _authorities = [];
    private readonly IReadOnlyList<SecurityKey> _jwtKeys = [];
    private readonly string[] _jwtAlgorithms = [];

    private ClientAuthentication(MasterOptions options, GroupMapping groups)
    {
        _options = options;
        Modes = options.ClientAuth;
        Groups = groups;
        if (Modes.HasFlag(ClientAuthModes.Tls))
        {
            _authorities.ImportFromPemFile(options.ClientCaPath!);
            if (_authorities.Count == 0) throw new ArgumentException($"ClientCaPath (--client-ca) '{options.ClientCaPath}' holds no PEM certificate.");
        }

        if (Modes.HasFlag(ClientAuthModes.Jwt))
        {
            (_jwtKeys, _jwtAlgorithms) = LoadJwtKeys(options);
        }
    }

    public ClientAuthModes Modes { get; }

    public GroupMapping Groups { get; }

    /// <summary>Reads the CA, keys and group mapping the options name; throws <see cref="ArgumentException"/> on a bad file.</summary>
    public static ClientAuthentication Create(MasterOptions options)
    {
        try
        {
            return new ClientAuthentication(options, GroupMapping.Load(options.GroupMappingPath));
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException($"client authentication: a certificate or key file could not be read ({e.Message})", e);
        }
    }

    /// <summary>
    /// Kestrel's TLS handshake on the client port: asks for a client certificate (required when
    /// tls is the only mode, optional with jwt). The handshake accepts any certificate; trust is
    /// decided by the certificate handler, so a wrong one gets UNAUTHENTICATED with a reason
    /// instead of a reset connection.
    /// </summary>
    public void ConfigureHttps(HttpsConnectionAdapterOptions https)
    {
        if (!Modes.HasFlag(ClientAuthModes.Tls)) return;
        https.ClientCertificateMode = Modes == ClientAuthModes.Tls ? ClientCertificateMode.RequireCertificate : ClientCertificateMode.AllowCertificate;
        https.ClientCertificateValidation = (_, _, _) => true;
    }

    /// <summary>Registers the ASP.NET Core authentication handlers of the configured modes.</summary>
    public void AddServices(IServiceCollection services)
    {
        var builder = services.AddAuthentication();
        if (Modes.HasFlag(ClientAuthModes.Tls))
        {
            builder.AddCertificate(CertificateAuthenticationDefaults.AuthenticationScheme, certificate =>
            {
                certificate.AllowedCertificateTypes = CertificateTypes.Chained;
                certificate.ChainTrustValidationMode = X509ChainTrustMode.CustomRootTrust;
                certificate.CustomTrustStore.AddRange(_authorities);
                // Private CAs rarely publish revocation lists; rotate by replacing the CA or expiring certificates.
                certificate.RevocationMode = X509RevocationMode.NoCheck;
                certificate.ValidateCertificateUse = true;
                certificate.ValidateValidityPeriod = true;
                certificate.Events = new CertificateAuthenticationEvents
                {
                    OnCertificateValidated = context =>
                    {
                        var user = context.ClientCertificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
                        if (string.IsNullOrWhiteSpace(user))
                        {
                            context.Fail(new CallerAuthenticationException("the client certificate's subject has no CN (the CN is the user name)"));
                            return Task.CompletedTask;
                        }

                        context.Principal = Principal(user, Groups.GroupsOf(user), context.Scheme.Name);
                        context.Success();
                        return Task.CompletedTask;
                    },
                };
            });
            // Chain building per call would cost more than the call: verified certificates are cached
            // (per certificate, 2 minutes sliding by default).
            builder.AddCertificateCache();
        }

        if (Modes.HasFlag(ClientAuthModes.Jwt))
        {
            builder.AddJwtBearer(JwtBearerDefaults.AuthenticationScheme, jwt =>
            {
                jwt.MapInboundClaims = false;
                jwt.RequireHttpsMetadata = false;
                jwt.IncludeErrorDetails = false;
                jwt.TokenValidationParameters = new TokenValidationParameters
                {
                    IssuerSigningKeys = _jwtKeys,
                    ValidAlgorithms = _jwtAlgorithms,
                    RequireSignedTokens = true,
                    RequireExpirationTime = true,
                    ValidateLifetime = true,
                    ClockSkew = TimeSpan.FromMinutes(1),
                    ValidateIssuer = _options.JwtIssuer is not null,
                    ValidIssuer = _options.JwtIssuer,
                    ValidateAudience = _options.JwtAudience is not null,
                    ValidAudience = _options.JwtAudience,
                    NameClaimType = _options.JwtUserClaim,
                };
                jwt.Events = new JwtBearerEvents { OnTokenValidated = OnTokenValidated };
            });
        }
    }

    private Task OnTokenValidated(TokenValidatedContext context)
    {
        var claims = context.Principal?.Claims.ToList() ?? [];
        var user = claims.FirstOrDefault(c => c.Type == _options.JwtUserClaim)?.Value;
        if (string.IsNullOrWhiteSpace(user))
        {
            context.Fail(new CallerAuthenticationException($"the bearer token has no '{_options.JwtUserClaim}' claim (the user name)"));
            return Task.CompletedTask;
        }

        var groups = claims.Where(c => c.Type == _options.JwtGroupsClaim)
            .SelectMany(c => c.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        context.Principal = Principal(user, groups.Count > 0 ? groups : Groups.GroupsOf(user), context.Scheme.Name);
        return Task.CompletedTask;
    }

    /// <summary>The principal both handlers produce: one user claim, one claim per group (first = primary).</summary>
    public static ClaimsPrincipal Principal(string user, IEnumerable<string> groups, string scheme)
    {
        var claims = new List<Claim> { new(UserClaim, user) };
        claims.AddRange(groups.Select(g => new Claim(GroupClaim, g)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, UserClaim, GroupClaim));
    }

    /// <summary>The HS256 secret, PEM public key or JWKS the options name, and the algorithms they allow.</summary>
    private static (IReadOnlyList<SecurityKey> Keys, string[] Algorithms) LoadJwtKeys(MasterOptions options)
    {
        if (options.JwtJwksFile is { } jwksPath)
        {
            JsonWebKeySet set;
            try
            {
                set = new JsonWebKeySet(File.ReadAllText(jwksPath));
            }
            catch (ArgumentException)
            {
                throw new ArgumentException($"JwtJwksFile (--jwt-jwks-file) '{jwksPath}' is not a JSON Web Key Set");
            }

            var keys = set.GetSigningKeys();
            if (keys.Count == 0) throw new ArgumentException($"JwtJwksFile (--jwt-jwks-file) '{jwksPath}' holds no signing key");
            return (keys.ToList(), keys.Any(k => k is SymmetricSecurityKey) ? [.. AsymmetricAlgorithms, .. HmacAlgorithms] : AsymmetricAlgorithms);
        }

        var path = options.JwtKeyFile!;
        var text = File.ReadAllText(path);
        if (text.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            if (text.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
            {
                throw new ArgumentException($"JwtKeyFile (--jwt-key-file) '{path}' holds a private key: give the masters the public key only");
            }

            var rsa = RSA.Create();
            try
            {
                rsa.ImportFromPem(text);
                return ([new RsaSecurityKey(rsa)], AsymmetricAlgorithms[..6]);
            }
            catch (Exception e) when (e is ArgumentException or CryptographicException)
            {
                rsa.Dispose();
            }

            var ec = ECDsa.Create();
            try
            {
                ec.ImportFromPem(text);
                return ([new ECDsaSecurityKey(ec)], AsymmetricAlgorithms[6..]);
            }
            catch (Exception e) when (e is ArgumentException or CryptographicException)
            {
                ec.Dispose();
                throw new ArgumentException($"JwtKeyFile (--jwt-key-file) '{path}' is PEM but not an RSA or EC public key");
            }
        }

        // HS256: the file's bytes are the secret (a trailing newline from an editor or echo is not part of it).
        var secret = File.ReadAllBytes(path).AsSpan().TrimEnd("\r\n"u8).ToArray();
        if (secret.Length < 32)
        {
            throw new ArgumentException($"JwtKeyFile (--jwt-key-file) '{path}': an HS256 secret needs at least 32 bytes (got {secret.Length})");
        }

        return ([new SymmetricSecurityKey(secret)], HmacAlgorithms);
    }
}

/// <summary>A refusal whose message is ours and may be shown to the caller.</summary>
internal sealed class CallerAuthenticationException(string message) : Exception(message);
