using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using HaMaster.Client;
using HaMaster.Ops.Tests.Infrastructure;
using HaMaster.Protos.V1;

namespace HaMaster.Ops.Tests;

/// <summary>A 3-master cluster with TLS and a trusted CA for the other masters, and no cluster secret.</summary>
public sealed class MutualTlsClusterFixture : IAsyncLifetime
{
    public TestCertificates Certificates { get; } = TestCertificates.Create();

    /// <summary>Certificates of another authority, which the masters do not trust.</summary>
    public TestCertificates Stranger { get; } = TestCertificates.Create();

    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await OpsCluster.StartAsync(new OpsClusterOptions { Tls = Certificates });

    public async Task DisposeAsync()
    {
        if (Cluster is not null) await Cluster.DisposeAsync();
        Certificates.Dispose();
        Stranger.Dispose();
    }
}

/// <summary>
/// Issue 17: with mutual TLS between masters and no cluster secret, the peer port requires a
/// client certificate signed by the trusted CA. The masters present theirs (they elect a leader
/// and replicate); a process without one, or with one from another CA, gets nowhere.
/// </summary>
public sealed class MutualTlsPeerTests(MutualTlsClusterFixture fixture) : IClassFixture<MutualTlsClusterFixture>
{
    private const uint VoteMessageType = 2;

    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Peer_port_refuses_callers_without_a_certificate_of_the_trusted_CA()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var client = Cluster.CreateClient();
        await client.CreateDirectoryAsync("/mtls", recursive: true);
        var before = await Cluster.ClusterInfoAsync(leader);
        var follower = before.Members.Select(m => m.Id).First(id => id != leader);
        var address = new Uri($"https://{Cluster.Master(follower).PeerAddress}");

        // Trusts the masters' CA but presents no certificate; presents one of another CA.
        var noCertificate = ClientTls.TrustingAuthority(fixture.Certificates.Authority);
        var strangerCertificate = ClientTls.TrustingAuthority(fixture.Certificates.Authority);
        using var stranger = X509CertificateLoader.LoadPkcs12FromFile(fixture.Stranger.ServerPfxPath, fixture.Stranger.PfxPassword);
        strangerCertificate.LocalCertificateSelectionCallback = (_, _, _, _, _) => stranger;
        foreach (var tls in new[] { noCertificate, strangerCertificate })
        {
            var channel = MasterChannel.Open(address, tls, TimeSpan.FromSeconds(3));
            using var owned = channel.Channel;
            var refused = await Assert.ThrowsAsync<RpcException>(async () => await new RaftPeer.RaftPeerClient(channel.Channel).DeliverAsync(VoteFrom(leader, follower, before.Term), deadline: DateTime.UtcNow.AddSeconds(5)));
            Assert.NotEqual(StatusCode.OK, refused.StatusCode);
        }

        // With a certificate of the trusted CA the handshake succeeds: the call reaches the service,
        // which still refuses a sender that is not a member.
        var trusted = ClientTls.TrustingAuthority(fixture.Certificates.Authority);
        using var member = X509CertificateLoader.LoadPkcs12FromFile(fixture.Certificates.ServerPfxPath, fixture.Certificates.PfxPassword);
        trusted.LocalCertificateSelectionCallback = (_, _, _, _, _) => member;
        var accepted = MasterChannel.Open(address, trusted, TimeSpan.FromSeconds(3));
        using (accepted.Channel)
        {
            var denied = await Assert.ThrowsAsync<RpcException>(async () => await new RaftPeer.RaftPeerClient(accepted.Channel).DeliverAsync(VoteFrom(99, follower, before.Term), deadline: DateTime.UtcNow.AddSeconds(5)));
            Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        }

        foreach (var master in Cluster.Masters)
        {
            var after = await Cluster.ClusterInfoAsync(master.Id);
            Assert.Equal(leader, after.LeaderId);
            Assert.Equal(before.Term, after.Term);
        }

        await client.CreateDirectoryAsync("/mtls/after", recursive: true);
        Assert.Equal("/mtls/after", (await client.GetStatusAsync("/mtls/after")).Path);
    }

    [Fact]
    public async Task Admin_changes_on_the_client_port_need_a_certificate_of_the_trusted_CA()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var address = new Uri($"https://{Cluster.Master(leader).ClientAddress}");

        // Without a certificate: reads and GetClusterInfo work, admin changes are unauthenticated.
        var anonymous = MasterChannel.Open(address, ClientTls.TrustingAuthority(fixture.Certificates.Authority), TimeSpan.FromSeconds(3));
        using (anonymous.Channel)
        {
            Assert.Equal(leader, (await anonymous.Admin.GetClusterInfoAsync(new GetClusterInfoRequest(), deadline: DateTime.UtcNow.AddSeconds(5))).LeaderId);
            var refused = await Assert.ThrowsAsync<RpcException>(async () => await anonymous.Admin.TakeSnapshotAsync(new TakeSnapshotRequest(), deadline: DateTime.UtcNow.AddSeconds(10)));
            Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
            Assert.Contains("client certificate", refused.Status.Detail, StringComparison.Ordinal);
        }

        var trusted = ClientTls.TrustingAuthority(fixture.Certificates.Authority);
        using var member = X509CertificateLoader.LoadPkcs12FromFile(fixture.Certificates.ServerPfxPath, fixture.Certificates.PfxPassword);
        trusted.LocalCertificateSelectionCallback = (_, _, _, _, _) => member;
        var admin = MasterChannel.Open(address, trusted, TimeSpan.FromSeconds(3));
        using (admin.Channel)
        {
            await admin.Admin.TakeSnapshotAsync(new TakeSnapshotRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
        }
    }

    private static RaftMessageBatch VoteFrom(ulong from, ulong to, ulong term)
    {
        var batch = new RaftMessageBatch();
        batch.Messages.Add(new RaftMessage { Type = VoteMessageType, From = from, To = to, Term = term + 100, LogTerm = term + 100, Index = 1_000_000 });
        return batch;
    }
}
