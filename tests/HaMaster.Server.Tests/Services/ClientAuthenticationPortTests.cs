using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using HaMaster.Protos.V1;
using HaMaster.Server.Configuration;
using HaMaster.Server.Hosting;
using HaMaster.Server.Services;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace HaMaster.Server.Tests.Services;

/// <summary>
/// Issue 17 JWT key kinds on an in-process gRPC port with <see cref="AuthenticatedCallerInterceptor"/>:
/// an RS256 PEM public key and an ES256 JWKS verify tokens signed by their private keys; an HS256
/// token "signed" with the public key's text (algorithm confusion) and a token without exp are
/// refused; a private key given as the masters' key file is refused at start.
/// </summary>
public sealed class ClientAuthenticationPortTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);
    private readonly string _directory = Directory.CreateTempSubdirectory("hamaster-authport-").FullName;

    [Fact]
    public async Task Rs256_pem_public_key_verifies_its_tokens_and_refuses_algorithm_confusion()
    {
        using var rsa = RSA.Create(2048);
        var keyFile = Write("rsa.pub.pem", rsa.ExportSubjectPublicKeyInfoPem());
        await using var port = await StartAsync(Options(keyFile: keyFile));

        var token = Sign(new { alg = "RS256", typ = "JWT" }, Claims("alice", ["staff", "dev"]), data => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        var alice = await WhoAmIAsync(port, token);
        Assert.Equal(("alice", "staff"), (alice.Owner, alice.Group));

        // HS256 with the public key's PEM text as the secret: refused (only RSA algorithms are accepted for an RSA key).
        var confused = Sign(new { alg = "HS256", typ = "JWT" }, Claims("root", null), data => HMACSHA256.HashData(Encoding.ASCII.GetBytes(rsa.ExportSubjectPublicKeyInfoPem()), data));
        var refused = await Assert.ThrowsAsync<RpcException>(() => WhoAmIAsync(port, confused));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Contains("bearer token rejected", refused.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Es256_jwks_verifies_its_tokens_and_a_token_without_expiry_is_refused()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = ec.ExportParameters(false);
        var jwks = JsonSerializer.Serialize(new { keys = new[] { new { kty = "EC", crv = "P-256", kid = "k1", use = "sig", alg = "ES256", x = B64(p.Q.X!), y = B64(p.Q.Y!) } } });
        await using var port = await StartAsync(Options(jwksFile: Write("keys.jwks", jwks)));

        byte[] SignEc(byte[] data) => ec.SignData(data, HashAlgorithmName.SHA256); // IEEE P1363 r||s, as JWS wants
        var bob = await WhoAmIAsync(port, Sign(new { alg = "ES256", typ = "JWT", kid = "k1" }, Claims("bob", null), SignEc));
        Assert.Equal(("bob", "bob"), (bob.Owner, bob.Group));

        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var noExpiry = Sign(new { alg = "ES256", typ = "JWT", kid = "k1" }, new Dictionary<string, object> { ["sub"] = "bob", ["iat"] = now }, SignEc);
        var refused = await Assert.ThrowsAsync<RpcException>(() => WhoAmIAsync(port, noExpiry));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Contains("no expiry", refused.Status.Detail, StringComparison.Ordinal);

        var none = await Assert.ThrowsAsync<RpcException>(() => WhoAmIAsync(port, null));
        Assert.Equal(StatusCode.Unauthenticated, none.StatusCode);
        Assert.Contains("requires a bearer token", none.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_private_key_as_the_key_file_is_refused()
    {
        using var rsa = RSA.Create(2048);
        var keyFile = Write("rsa.key.pem", rsa.ExportPkcs8PrivateKeyPem());
        var e = Assert.Throws<ArgumentException>(() => ClientAuthentication.Create(Options(keyFile: keyFile)));
        Assert.Contains("private key", e.Message, StringComparison.Ordinal);
    }

    private MasterOptions Options(string? keyFile = null, string? jwksFile = null) => new MasterOptions
    {
        NodeId = 1,
        InitialMembers = [MasterEndpoint.Parse("1=127.0.0.1:1/127.0.0.1:2")],
        ClientAuth = ClientAuthModes.Jwt,
        JwtKeyFile = keyFile,
        JwtJwksFile = jwksFile,
    }.Validate();

    private static Dictionary<string, object> Claims(string user, string[]? groups)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new Dictionary<string, object> { ["sub"] = user, ["iat"] = now, ["exp"] = now + 600 };
        if (groups is not null) claims["groups"] = groups;
        return claims;
    }

    private static string Sign(object header, Dictionary<string, object> claims, Func<byte[], byte[]> sign)
    {
        var signingInput = $"{B64(JsonSerializer.SerializeToUtf8Bytes(header))}.{B64(JsonSerializer.SerializeToUtf8Bytes(claims))}";
        return $"{signingInput}.{B64(sign(Encoding.ASCII.GetBytes(signingInput)))}";
    }

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static async Task<GrpcPort> StartAsync(MasterOptions options)
    {
        var authentication = ClientAuthentication.Create(options);
        var interceptor = new AuthenticatedCallerInterceptor(authentication, NullLogger.Instance);
        return await GrpcPort.StartAsync(new GrpcPortOptions
        {
            Address = IPAddress.Loopback,
            Port = 0,
            MaxMessageBytes = 1 << 20,
            ConfigureServices = services =>
            {
                authentication.AddServices(services);
                services.AddSingleton(interceptor);
                services.AddSingleton(new WhoAmI());
            },
            ConfigureGrpc = grpc =>
            {
                grpc.Interceptors.Add<ErrorStatusInterceptor>();
                grpc.Interceptors.Add<AuthenticatedCallerInterceptor>();
            },
            MapServices = app => app.MapGrpcService<WhoAmI>(),
        }, CancellationToken.None);
    }

    private static async Task<HaMaster.Protos.V1.FileInfo> WhoAmIAsync(GrpcPort port, string? token)
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port.Port}");
        var client = new FileSystemMaster.FileSystemMasterClient(channel);
        var headers = new Grpc.Core.Metadata();
        if (token is not null) headers.Add("authorization", "Bearer " + token);
        return (await client.GetStatusAsync(new GetStatusRequest { Path = "/whoami" }, headers).ResponseAsync.WaitAsync(Bound)).Info;
    }

    /// <summary>GetStatus answers with the caller the interceptor established.</summary>
    private sealed class WhoAmI : FileSystemMaster.FileSystemMasterBase
    {
        public override Task<GetStatusResponse> GetStatus(GetStatusRequest request, ServerCallContext context)
        {
            var caller = CallerIdentity.From(context);
            return Task.FromResult(new GetStatusResponse { Info = new HaMaster.Protos.V1.FileInfo { Path = request.Path, Owner = caller.User, Group = caller.Groups[0] } });
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
