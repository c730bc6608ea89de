using System.Diagnostics;
using Grpc.Core;
using HaMaster.Client;
using HaMaster.Ops.Tests.Infrastructure;
using HaMaster.Protos.V1;

namespace HaMaster.Ops.Tests;

/// <summary>
/// Three masters with <c>--auth jwt</c> (HS256 key file, issuer and audience checked),
/// <c>--enforce-permissions</c> and <c>--rate-limit 20</c>; the cluster's own calls use root's token.
/// </summary>
public sealed class JwtClusterFixture : IAsyncLifetime
{
    public const double RatePerSecond = 20;

    public TestTokens Tokens { get; } = new();

    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Cluster = await OpsCluster.StartAsync(new OpsClusterOptions
        {
            ExtraArguments = [.. Tokens.ServerArguments, "--enforce-permissions", "--rate-limit", "20"],
            BearerToken = Tokens.For("root"),
        });

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        Tokens.Dispose();
    }
}

/// <summary>
/// Issue 17, callers authenticate with JWT bearer tokens (real processes): the identity is the
/// token's, never a header's; no or bad token = UNAUTHENTICATED; permissions, superuser groups,
/// exactly-once sessions and the rate limit all follow the authenticated principal, also when a
/// follower forwards the call to the leader.
/// </summary>
public sealed class JwtAuthenticationTests(JwtClusterFixture fixture) : IClassFixture<JwtClusterFixture>
{
    private const uint Mode0777 = 511;
    private const uint Mode0700 = 448;

    private TestCluster Cluster => fixture.Cluster;

    private TestTokens Tokens => fixture.Tokens;

    private HaMasterClient As(string user, string[]? groups = null, Func<HaMasterClientOptions, HaMasterClientOptions>? more = null) =>
        Cluster.CreateClient(o =>
        {
            var options = o with { BearerToken = Tokens.For(user, groups) };
            return more is null ? options : more(options);
        });

    private static HaMasterClientOptions Raw(HaMasterClientOptions o) => o with { Retry = false, MaxAttempts = 1 };

    private async Task<string> SharedDirectoryAsync(string name)
    {
        var root = Cluster.CreateClient();
        await root.CreateDirectoryAsync(name, mode: Mode0777);
        await root.SetAttributeAsync(new SetAttributeRequest { Path = name, Mode = Mode0777 });
        return name;
    }

    [Fact]
    public async Task The_web_api_needs_a_bearer_token_the_client_port_accepts_and_the_probes_do_not()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var web = Cluster.Masters[0].WebAddress;
        foreach (var path in new[] { "/api/status", "/api/cluster", "/api/digest" })
        {
            using (var anonymous = await http.GetAsync(new Uri($"http://{web}{path}")))
            {
                Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);
                Assert.Contains("bearer token", await anonymous.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            using (var forged = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{web}{path}")))
            {
                forged.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "not.a.token");
                using var response = await http.SendAsync(forged);
                Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
            }

            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{web}{path}"));
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Tokens.For("alice"));
            using var served = await http.SendAsync(request);
            Assert.Equal(System.Net.HttpStatusCode.OK, served.StatusCode);
        }

        foreach (var open in new[] { "/healthz", "/metrics", "/" })
        {
            using var response = await http.GetAsync(new Uri($"http://{web}{open}"));
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task Alice_token_reads_her_0700_directory_bob_token_cannot_and_a_header_claiming_alice_is_denied()
    {
        var home = await SharedDirectoryAsync("/jwt-home");
        var alice = As("alice");
        var created = await alice.CreateDirectoryAsync($"{home}/alice", mode: Mode0700);
        Assert.Equal("alice", created.Owner);
        Assert.Equal("alice", created.Group); // no groups claim, no mapping: the user's own group
        await alice.CreateFileAsync($"{home}/alice/diary");
        Assert.Contains((await alice.ListStatusAsync($"{home}/alice")).Entries, e => e.Name == "diary");

        var bob = As("bob", more: Raw);
        var denied = await Assert.ThrowsAsync<HaMasterPermissionDeniedException>(async () => await bob.ListStatusAsync($"{home}/alice"));
        Assert.Equal(StatusCode.PermissionDenied, denied.Status);
        Assert.Contains("user bob lacks read on /jwt-home/alice", denied.Detail, StringComparison.Ordinal);

        // Bob's token plus a header claiming alice: refused, the header cannot change who he is.
        var claiming = As("bob", more: o => Raw(o) with { User = "alice" });
        var impersonation = await Assert.ThrowsAsync<HaMasterPermissionDeniedException>(async () => await claiming.ListStatusAsync($"{home}/alice"));
        Assert.Equal(StatusCode.PermissionDenied, impersonation.Status);
        Assert.Contains("hamaster-user 'alice' does not match the authenticated caller 'bob'", impersonation.Detail, StringComparison.Ordinal);

        // ... nor a header claiming the supergroup.
        var escalating = As("bob", more: o => Raw(o) with { Groups = ["supergroup"] });
        var escalation = await Assert.ThrowsAsync<HaMasterPermissionDeniedException>(async () => await escalating.DeleteAsync($"{home}/alice", recursive: true));
        Assert.Contains("group 'supergroup'", escalation.Detail, StringComparison.Ordinal);

        // The header alone, with no token, is not an identity at all.
        var headerOnly = Cluster.CreateClient(o => Raw(o) with { BearerToken = null, User = "alice" });
        var anonymous = await Assert.ThrowsAsync<HaMasterPermissionDeniedException>(async () => await headerOnly.ListStatusAsync($"{home}/alice"));
        Assert.Equal(StatusCode.Unauthenticated, anonymous.Status);
        Assert.Contains("requires a bearer token", anonymous.Detail, StringComparison.Ordinal);

        // A supergroup member by the token's groups claim passes the checks (superuser rules apply to the principal).
        var carol = As("carol", ["supergroup"]);
        Assert.Contains((await carol.ListStatusAsync($"{home}/alice")).Entries, e => e.Name == "diary");

        // Nothing of bob's attempts took effect.
        Assert.Equal(Mode0700, (await alice.GetStatusAsync($"{home}/alice")).Mode);
    }

    [Theory]
    [InlineData("expired", "expired")]
    [InlineData("another-key", "signature")]
    [InlineData("audience", "audience")]
    [InlineData("garbage", "well-formed")]
    public async Task A_bad_token_is_unauthenticated_with_the_reason(string kind, string reason)
    {
        var token = kind switch
        {
            "expired" => Tokens.Expired("alice"),
            "another-key" => Tokens.SignedWithAnotherKey("alice"),
            "audience" => Tokens.For("alice", audience: "someone-else"),
            _ => "not.a.jwt",
        };
        var client = Cluster.CreateClient(o => Raw(o) with { BearerToken = token });
        var refused = await Assert.ThrowsAsync<HaMasterPermissionDeniedException>(async () => await client.GetStatusAsync("/"));
        Assert.Equal(StatusCode.Unauthenticated, refused.Status);
        Assert.Contains("bearer token rejected", refused.Detail, StringComparison.Ordinal);
        Assert.Contains(reason, refused.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("IDX", refused.Detail, StringComparison.Ordinal); // no library text
    }

    [Fact]
    public async Task A_session_reused_by_another_principal_through_a_follower_is_refused_and_changes_nothing()
    {
        var dir = await SharedDirectoryAsync("/jwt-sessions");
        var leader = await Cluster.WaitForLeaderAsync();
        var follower = Cluster.Masters.First(m => m.Id != leader);
        var sessionId = "shared-" + Guid.NewGuid().ToString("N")[..8];

        // Alice's write 1 of session sessionId; her stored answer names her file.
        var alice = As("alice", more: o => o with { ClientId = sessionId });
        Assert.Equal("alice", (await alice.CreateFileAsync($"{dir}/alice-1")).Owner);

        // Bob reuses her client_id from sequence 1 on a follower (forwarded to the leader with
        // bob's authenticated identity): without binding he would get alice's stored answer back.
        var bob = As("bob", more: o => Raw(o) with { ClientId = sessionId, Seeds = [follower.ClientAddress], FollowLeader = false });
        var refused = await Assert.ThrowsAsync<HaMasterPermissionDeniedException>(async () => await bob.CreateFileAsync($"{dir}/bob-1"));
        Assert.Equal(StatusCode.PermissionDenied, refused.Status);
        Assert.Equal($"session {sessionId} belongs to another caller", refused.Detail);
        Assert.DoesNotContain("alice-1", refused.Detail, StringComparison.Ordinal);

        var root = Cluster.CreateClient();
        await Assert.ThrowsAsync<HaMasterNotFoundException>(async () => await root.GetStatusAsync($"{dir}/bob-1"));

        // Alice's session goes on undisturbed; bob with his own session writes normally via the follower.
        Assert.Equal("alice", (await alice.CreateFileAsync($"{dir}/alice-2")).Owner);
        var bobOwn = As("bob", more: o => o with { Seeds = [follower.ClientAddress], FollowLeader = false });
        Assert.Equal("bob", (await bobOwn.CreateFileAsync($"{dir}/bob-2")).Owner);
    }

    [Fact]
    public async Task The_rate_limit_follows_the_principal_across_connections_and_not_other_principals()
    {
        var leader = Cluster.Master(await Cluster.WaitForLeaderAsync()).ClientAddress;
        HaMasterClient Pinned(string user) => As(user, more: o => Raw(o) with { Seeds = [leader], FollowLeader = false });

        var flood = Pinned("flood");
        HaMasterException? limited = null;
        for (var i = 0; i < 3000 && limited is null; i++)
        {
            try
            {
                await flood.GetStatusAsync("/");
            }
            catch (HaMasterException e) when (e.Status == StatusCode.ResourceExhausted)
            {
                limited = e;
            }
        }

        Assert.NotNull(limited);
        Assert.Contains("user flood", limited.Detail, StringComparison.Ordinal);

        // New connections of the same principal share its budget: over a short run, no more calls
        // pass than the bucket refills (a budget per connection would let the first 40 through).
        var succeeded = 0;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 40; i++)
        {
            try
            {
                await Pinned("flood").GetStatusAsync("/");
                succeeded++;
            }
            catch (HaMasterException e) when (e.Status == StatusCode.ResourceExhausted)
            {
            }
        }

        var allowed = 2 + (int)Math.Ceiling(JwtClusterFixture.RatePerSecond * clock.Elapsed.TotalSeconds);
        Assert.True(succeeded <= allowed, $"{succeeded} of 40 calls passed in {clock.Elapsed.TotalMilliseconds:0} ms; the refill allows {allowed}");

        // Another principal has its own budget.
        Assert.Equal("/", (await Pinned("calm").GetStatusAsync("/")).Path);
    }

    [Fact]
    public async Task Health_checks_answer_without_a_token_and_the_api_does_not()
    {
        var address = Cluster.Masters[0].ClientAddress;
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress($"http://{address}");
        var invoker = channel.CreateCallInvoker();
        var raw = Marshallers.Create(static (byte[] b) => b, static b => b);
        var health = new Method<byte[], byte[]>(MethodType.Unary, "grpc.health.v1.Health", "Check", raw, raw);
        // HealthCheckResponse { status: SERVING (1) } is the two bytes 08 01.
        var answer = await invoker.AsyncUnaryCall(health, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(5)), []);
        Assert.Equal(new byte[] { 0x08, 0x01 }, answer);

        var info = new Method<byte[], byte[]>(MethodType.Unary, "hamaster.v1.ClusterAdmin", "GetClusterInfo", raw, raw);
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await invoker.AsyncUnaryCall(info, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(5)), []));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
    }

    [Fact]
    public async Task Cli_with_a_token_file_works_and_without_a_token_is_unauthenticated()
    {
        var masters = string.Join(",", Cluster.Masters.Select(m => m.ClientAddress));
        var tokenFile = Path.Combine(Path.GetTempPath(), $"hamaster-token-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(tokenFile, Tokens.For("dave") + "\n");
        try
        {
            await SharedDirectoryAsync("/jwt-cli");
            var made = await CliRunner.RunAsync("--masters", masters, "--token-file", tokenFile, "--json", "fs", "touch", "/jwt-cli/by-dave");
            Assert.True(made.ExitCode == 0, made.ToString());
            Assert.Equal("dave", (await Cluster.CreateClient().GetStatusAsync("/jwt-cli/by-dave")).Owner);

            var refused = await CliRunner.RunAsync("--masters", masters, "--user", "dave", "fs", "touch", "/jwt-cli/no-token");
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("requires a bearer token", refused.Err, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(tokenFile);
        }
    }
}

/// <summary>
/// One master with TLS and <c>--auth tls</c>: client certificates signed by the test CA, groups
/// from a mapping file, permissions enforced; the cluster's own calls present CN=root.
/// </summary>
public sealed class TlsClientAuthFixture : IAsyncLifetime
{
    private readonly string _mapping = Path.Combine(Path.GetTempPath(), $"hamaster-groups-{Guid.NewGuid():N}.txt");

    public TestCertificates Certificates { get; } = TestCertificates.Create();

    public TestCluster Cluster { get; private set; } = null!;

    private System.Security.Cryptography.X509Certificates.X509Certificate2? _rootCertificate;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(_mapping, "# user: primary group, more groups\nalice: staff, dev\nroot: root, supergroup\n");
        Cluster = await OpsCluster.StartAsync(new OpsClusterOptions
        {
            Size = 1,
            Tls = Certificates,
            ClientCertificate = _rootCertificate = Certificates.IssueClientCertificate("root"),
            ExtraArguments = ["--auth", "tls", "--client-ca", Certificates.AuthorityPemPath, "--group-mapping", _mapping, "--enforce-permissions"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        _rootCertificate?.Dispose();
        Certificates.Dispose();
        File.Delete(_mapping);
    }
}

/// <summary>
/// Issue 17, callers authenticate with client certificates (mutual TLS, real process): CN=alice
/// is alice with the mapped groups; no certificate, one from another CA or one not made for
/// client authentication is refused.
/// </summary>
public sealed class TlsClientAuthenticationTests(TlsClientAuthFixture fixture) : IClassFixture<TlsClientAuthFixture>
{
    private const uint Mode0777 = 511;

    private TestCluster Cluster => fixture.Cluster;

    private HaMasterClient WithCertificate(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate, Func<HaMasterClientOptions, HaMasterClientOptions>? more = null) =>
        Cluster.CreateClient(o =>
        {
            var options = o with { Tls = ClientTls.WithClientCertificate(ClientTls.TrustingAuthority(fixture.Certificates.Authority), certificate), Retry = false, MaxAttempts = 1 };
            return more is null ? options : more(options);
        });

    [Fact]
    public async Task Certificate_CN_alice_is_alice_with_mapped_groups_and_cannot_claim_another_user()
    {
        var root = Cluster.CreateClient();
        await root.CreateDirectoryAsync("/tls-home", mode: Mode0777);
        await root.SetAttributeAsync(new SetAttributeRequest { Path = "/tls-home", Mode = Mode0777 });

        using var aliceCertificate = fixture.Certificates.IssueClientCertificate("alice");
        var alice = WithCertificate(aliceCertificate);
        var file = await alice.CreateFileAsync("/tls-home/alice-file");
        Assert.Equal("alice", file.Owner);
        Assert.Equal("staff", file.Group); // first mapped group is the primary group

        using var daveCertificate = fixture.Certificates.IssueClientCertificate("dave");
        var dave = await WithCertificate(daveCertificate).CreateFileAsync("/tls-home/dave-file");
        Assert.Equal(("dave", "dave"), (dave.Owner, dave.Group)); // not mapped: own group

        var claiming = WithCertificate(aliceCertificate, o => o with { User = "root" });
        var refused = await Assert.ThrowsAsync<HaMasterPermissionDeniedException>(async () => await claiming.DeleteAsync("/tls-home", recursive: true));
        Assert.Equal(StatusCode.PermissionDenied, refused.Status);
        Assert.Contains("does not match the authenticated caller 'alice'", refused.Detail, StringComparison.Ordinal);
        Assert.Equal("alice", (await root.GetStatusAsync("/tls-home/alice-file")).Owner);
    }

    [Fact]
    public async Task Without_a_certificate_or_with_an_untrusted_one_the_call_is_refused()
    {
        // No certificate: the TLS handshake itself is refused (--auth tls alone requires one).
        var none = Cluster.CreateClient(o => o with { Tls = ClientTls.TrustingAuthority(fixture.Certificates.Authority), Retry = false, MaxAttempts = 1, BearerToken = null });
        var noCertificate = await Assert.ThrowsAnyAsync<HaMasterException>(async () => await none.GetStatusAsync("/"));
        Assert.NotEqual(StatusCode.OK, noCertificate.Status);

        // CN=root from another CA: authenticated by nobody.
        using var rogueAuthority = TestCertificates.Create();
        using var rogueRoot = rogueAuthority.IssueClientCertificate("root");
        var rogue = await Assert.ThrowsAsync<HaMasterPermissionDeniedException>(async () => await WithCertificate(rogueRoot).GetStatusAsync("/"));
        Assert.Equal(StatusCode.Unauthenticated, rogue.Status);
        Assert.Contains("client certificate rejected", rogue.Detail, StringComparison.Ordinal);

        // Signed by the right CA but made for servers only (no clientAuth usage).
        using var serverOnly = fixture.Certificates.IssueClientCertificate("root", clientAuth: false);
        var wrongUse = await Assert.ThrowsAsync<HaMasterPermissionDeniedException>(async () => await WithCertificate(serverOnly).GetStatusAsync("/"));
        Assert.Equal(StatusCode.Unauthenticated, wrongUse.Status);
    }

    [Fact]
    public async Task With_tls_and_jwt_either_credential_identifies_and_none_is_unauthenticated()
    {
        using var tokens = new TestTokens();
        await using var cluster = await OpsCluster.StartAsync(new OpsClusterOptions
        {
            Size = 1,
            Tls = fixture.Certificates,
            BearerToken = tokens.For("root"),
            ExtraArguments = ["--auth", "tls,jwt", "--client-ca", fixture.Certificates.AuthorityPemPath, "--jwt-key-file", tokens.KeyPath, "--enforce-permissions"],
        });
        var root = cluster.CreateClient();
        await root.CreateDirectoryAsync("/both", mode: Mode0777);
        await root.SetAttributeAsync(new SetAttributeRequest { Path = "/both", Mode = Mode0777 });

        using var aliceCertificate = fixture.Certificates.IssueClientCertificate("alice");
        var byCertificate = cluster.CreateClient(o => o with { BearerToken = null, Tls = ClientTls.WithClientCertificate(ClientTls.TrustingAuthority(fixture.Certificates.Authority), aliceCertificate) });
        Assert.Equal("alice", (await byCertificate.CreateFileAsync("/both/by-certificate")).Owner);
        var byToken = cluster.CreateClient(o => o with { BearerToken = tokens.For("bob") });
        Assert.Equal("bob", (await byToken.CreateFileAsync("/both/by-token")).Owner);

        // The handshake lets a caller without a certificate in; the call then needs one or the other.
        var neither = cluster.CreateClient(o => o with { BearerToken = null, Retry = false, MaxAttempts = 1 });
        var refused = await Assert.ThrowsAsync<HaMasterPermissionDeniedException>(async () => await neither.GetStatusAsync("/both"));
        Assert.Equal(StatusCode.Unauthenticated, refused.Status);
        Assert.Contains("client certificate (mutual TLS) or a bearer token", refused.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admin_changes_need_a_certificate_of_the_masters_CA_not_only_one_of_the_client_CA()
    {
        // Callers' certificates come from their own CA; --client-ca lists both it and the masters' CA.
        using var clientAuthority = TestCertificates.Create("HaMaster Test Client CA");
        var bundle = Path.Combine(Path.GetTempPath(), $"hamaster-cas-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(bundle, await File.ReadAllTextAsync(fixture.Certificates.AuthorityPemPath) + "\n" + await File.ReadAllTextAsync(clientAuthority.AuthorityPemPath));
        using var mastersRoot = fixture.Certificates.IssueClientCertificate("root");
        try
        {
            await using var cluster = await OpsCluster.StartAsync(new OpsClusterOptions
            {
                Size = 1,
                Tls = fixture.Certificates,
                ClientCertificate = mastersRoot,
                ExtraArguments = ["--auth", "tls", "--client-ca", bundle],
            });
            var bogus = new AddMasterRequest { Id = 77, ClientAddress = "not-an-address", PeerAddress = "not-an-address" };

            using var aliceCertificate = clientAuthority.IssueClientCertificate("alice");
            var alice = cluster.CreateClient(o => o with { Tls = ClientTls.WithClientCertificate(ClientTls.TrustingAuthority(fixture.Certificates.Authority), aliceCertificate), Retry = false, MaxAttempts = 1 });
            Assert.Equal("/", (await alice.GetStatusAsync("/")).Path);
            var refused = await Assert.ThrowsAsync<HaMasterPermissionDeniedException>(async () => await alice.AddMasterAsync(bogus));
            Assert.Equal(StatusCode.Unauthenticated, refused.Status);
            Assert.Contains("masters' CA", refused.Detail, StringComparison.Ordinal);

            // The masters' CA certificate gets past authentication to the request's own check.
            var admin = cluster.CreateClient(o => o with { Retry = false, MaxAttempts = 1 });
            var invalid = await Assert.ThrowsAnyAsync<HaMasterException>(async () => await admin.AddMasterAsync(bogus));
            Assert.Equal(StatusCode.InvalidArgument, invalid.Status);
        }
        finally
        {
            File.Delete(bundle);
        }
    }

    [Fact]
    public async Task Cli_presents_a_pem_client_certificate()
    {
        var (certificate, key) = fixture.Certificates.WriteClientPem("erin");
        var master = Cluster.Masters[0].ClientAddress;
        var common = new[] { "--masters", master, "--tls-ca", fixture.Certificates.AuthorityPemPath };
        var root = Cluster.CreateClient();
        await root.CreateDirectoryAsync("/tls-cli", mode: Mode0777);
        await root.SetAttributeAsync(new SetAttributeRequest { Path = "/tls-cli", Mode = Mode0777 });
        var made = await CliRunner.RunAsync([.. common, "--tls-cert", certificate, "--tls-key", key, "fs", "mkdir", "/tls-cli/by-erin"]);
        Assert.True(made.ExitCode == 0, made.ToString());
        Assert.Equal("erin", (await root.GetStatusAsync("/tls-cli/by-erin")).Owner);
    }
}
