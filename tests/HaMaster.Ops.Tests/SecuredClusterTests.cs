using System.Globalization;
using HaMaster.Client;
using Grpc.Core;
using HaMaster.Ops.Tests.Infrastructure;
using HaMaster.Protos.V1;

namespace HaMaster.Ops.Tests;

/// <summary>
/// One 3-master cluster with TLS on client and peer ports (certificates generated at test time)
/// and a cluster secret, shared by the tests of this class.
/// </summary>
public sealed class SecuredClusterFixture : IAsyncLifetime
{
    public const string Secret = "ops-test-cluster-secret";

    public TestCertificates Certificates { get; } = TestCertificates.Create();

    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Cluster = await OpsCluster.StartAsync(new OpsClusterOptions { Tls = Certificates, ExtraArguments = ["--cluster-secret", Secret] });

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        Certificates.Dispose();
    }
}

/// <summary>
/// Issue 9 security against real processes: TLS for client and peer traffic; a rogue process
/// (even one that speaks TLS and trusts the CA) without the cluster secret, or with a wrong one,
/// cannot vote, append, install a snapshot or change membership; the CLI with the secret can.
/// </summary>
public sealed class SecuredClusterTests(SecuredClusterFixture fixture) : IClassFixture<SecuredClusterFixture>
{
    private const uint VoteMessageType = 2;
    private const uint TimeoutNowMessageType = 9;

    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Tls_cluster_elects_a_leader_and_a_client_trusting_the_CA_writes_and_reads()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        Assert.InRange(leader, 1UL, 3UL);

        var client = Cluster.CreateClient();
        await client.CreateDirectoryAsync("/tls", recursive: true);
        await client.CreateFileAsync("/tls/secret-file");
        var status = await client.GetStatusAsync("/tls/secret-file");
        Assert.Equal("/tls/secret-file", status.Path);

        // A plaintext client cannot talk to a TLS port.
        using var plain = new HaMasterClient(new HaMasterClientOptions
        {
            Seeds = [Cluster.Master(leader).ClientAddress],
            FollowLeader = false,
            Retry = false,
            MaxAttempts = 1,
            CallTimeout = TimeSpan.FromSeconds(3),
        });
        var refused = await Assert.ThrowsAnyAsync<HaMasterException>(async () => await plain.GetStatusAsync("/tls/secret-file"));
        Assert.NotEqual(StatusCode.OK, refused.Status);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-secret")]
    public async Task Rogue_peer_without_the_secret_is_unauthenticated_and_changes_nothing(string? secret)
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var before = await Cluster.ClusterInfoAsync(leader);
        var follower = before.Members.Select(m => m.Id).First(id => id != leader);
        var headers = new Metadata();
        if (secret is not null)
        {
            headers.Add("hamaster-cluster-secret", secret);
        }

        // A vote request with a term far ahead would depose the leader if it were accepted;
        // TimeoutNow would make the follower campaign at once.
        var peer = new RaftPeer.RaftPeerClient(Cluster.Channel(Cluster.Master(follower).PeerAddress).Channel);
        var batch = new RaftMessageBatch();
        batch.Messages.Add(new RaftMessage { Type = VoteMessageType, From = 99, To = follower, Term = before.Term + 100, LogTerm = before.Term + 100, Index = 1_000_000 });
        batch.Messages.Add(new RaftMessage { Type = TimeoutNowMessageType, From = leader, To = follower, Term = before.Term });
        var vote = await Assert.ThrowsAsync<RpcException>(async () => await peer.DeliverAsync(batch, Call(headers)));
        Assert.Equal(StatusCode.Unauthenticated, vote.StatusCode);

        var snapshot = await InstallSnapshotAsync(peer, follower, before.Term + 100, headers);
        Assert.Equal(StatusCode.Unauthenticated, snapshot);

        var admin = Cluster.Channel(Cluster.Master(leader).ClientAddress).Admin;
        var add = await Assert.ThrowsAsync<RpcException>(async () =>
            await admin.AddMasterAsync(new AddMasterRequest { Id = 77, ClientAddress = "127.0.0.1:9", PeerAddress = "127.0.0.1:10" }, Call(headers)));
        Assert.Equal(StatusCode.Unauthenticated, add.StatusCode);
        Assert.Contains("secret", add.Status.Detail, StringComparison.Ordinal);

        // Nothing moved: every master still names the same leader in the same term, with the same members.
        foreach (var master in Cluster.Running)
        {
            var after = await Cluster.ClusterInfoAsync(master.Id);
            Assert.Equal(leader, after.LeaderId);
            Assert.Equal(before.Term, after.Term);
            Assert.Equal(before.Members.Select(m => m.Id).Order(), after.Members.Select(m => m.Id).Order());
        }
    }

    [Fact]
    public async Task Cli_with_the_secret_adds_and_removes_a_master_and_without_it_is_refused()
    {
        var joiner = await Cluster.StartJoiningMasterAsync();
        var masters = string.Join(",", Cluster.Masters.Select(m => m.ClientAddress));
        var id = joiner.Id.ToString(CultureInfo.InvariantCulture);
        var common = new[] { "--masters", masters, "--tls-ca", fixture.Certificates.AuthorityPemPath };

        var withoutSecret = await CliRunner.RunAsync([.. common, "cluster", "add", id, joiner.ClientAddress, joiner.PeerAddress, "--web", joiner.WebAddress]);
        Assert.NotEqual(0, withoutSecret.ExitCode);
        Assert.Contains("Unauthenticated", withoutSecret.Err, StringComparison.Ordinal);

        var add = await CliRunner.RunAsync([.. common, "--cluster-secret", SecuredClusterFixture.Secret, "cluster", "add", id, joiner.ClientAddress, joiner.PeerAddress, "--web", joiner.WebAddress]);
        Assert.True(add.ExitCode == 0, $"{add}{Environment.NewLine}{Cluster.Diagnostics()}");
        Assert.Contains($"added master {id}", add.Out, StringComparison.Ordinal);

        var remove = await CliRunner.RunAsync([.. common, "--cluster-secret", SecuredClusterFixture.Secret, "cluster", "remove", id]);
        Assert.True(remove.ExitCode == 0, $"{remove}{Environment.NewLine}{Cluster.Diagnostics()}");
        var leader = await Cluster.WaitForLeaderAsync();
        var info = await Cluster.ClusterInfoAsync(leader);
        Assert.DoesNotContain(info.Members, m => m.Id == joiner.Id);
        // Removed: it no longer belongs to the cluster the other tests of this class look at.
        await Cluster.RetireAsync(joiner.Id);
    }

    private static CallOptions Call(Metadata headers) => new(headers, DateTime.UtcNow.AddSeconds(5));

    /// <summary>
    /// Streams a fake snapshot's first chunk; returns the call's final status. The server refuses
    /// on the headers, possibly while the chunk is still being written: the client then may see
    /// the stream reset (CANCELLED) instead of the status, so such a race is retried (3 attempts).
    /// </summary>
    private static async Task<StatusCode> InstallSnapshotAsync(RaftPeer.RaftPeerClient peer, ulong to, ulong term, Metadata headers)
    {
        var status = StatusCode.Unknown;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            status = await InstallSnapshotOnceAsync(peer, to, term, headers);
            if (status != StatusCode.Cancelled)
            {
                break;
            }
        }

        return status;
    }

    private static async Task<StatusCode> InstallSnapshotOnceAsync(RaftPeer.RaftPeerClient peer, ulong to, ulong term, Metadata headers)
    {
        try
        {
            using var call = peer.InstallSnapshot(Call(headers));
            await call.RequestStream.WriteAsync(new SnapshotChunk
            {
                Message = new RaftMessage { Type = 8, From = 99, To = to, Term = term, Snapshot = new RaftSnapshotMeta { Index = 1_000_000, Term = term } },
                FileName = "CURRENT",
                Data = Google.Protobuf.ByteString.CopyFromUtf8("rogue"),
                Last = true,
                LastInFile = true,
            });
            await call.RequestStream.CompleteAsync();
            await call.ResponseAsync;
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }
}
