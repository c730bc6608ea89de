using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using HaMaster.Ops.Tests.Infrastructure;
using HaMaster.Protos.V1;

namespace HaMaster.Ops.Tests;

/// <summary>A 3-master cleartext cluster whose masters read the cluster secret from a file (--cluster-secret-file).</summary>
public sealed class SecretFileClusterFixture : IAsyncLifetime
{
    public const string Secret = "peer-auth-test-secret-0123456789";

    private readonly string _directory = Directory.CreateTempSubdirectory("hamaster-peer-auth-").FullName;

    public string SecretFile => Path.Combine(_directory, "cluster-secret");

    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // Trailing newline on purpose: the file's content is trimmed.
        await File.WriteAllTextAsync(SecretFile, Secret + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(SecretFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Cluster = await OpsCluster.StartAsync(new OpsClusterOptions { ExtraArguments = ["--cluster-secret-file", SecretFile] });
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null) await Cluster.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>
/// Issue 17 (peers authenticate, always; web port) against real processes: forged Raft messages
/// from a process without the secret are UNAUTHENTICATED and change nothing; messages from a
/// master id that is not a member, or from a master of another cluster (cluster id), are
/// PERMISSION_DENIED and counted; the web port's /api endpoints need the secret.
/// </summary>
public sealed class PeerAuthenticationTests(SecretFileClusterFixture fixture) : IClassFixture<SecretFileClusterFixture>, IDisposable
{
    private const uint VoteMessageType = 2;
    private const uint AppendMessageType = 4;
    private const uint TimeoutNowMessageType = 9;

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private TestCluster Cluster => fixture.Cluster;

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task Forged_append_vote_and_timeout_now_without_credentials_are_unauthenticated_and_change_nothing()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var client = Cluster.CreateClient();
        await client.CreateDirectoryAsync("/peer-auth/before", recursive: true);
        var before = await Cluster.ClusterInfoAsync(leader);
        var follower = before.Members.Select(m => m.Id).First(id => id != leader);
        var peer = new RaftPeer.RaftPeerClient(Cluster.Channel(Cluster.Master(follower).PeerAddress).Channel);

        // An Append claiming to be the leader (an entry the others never saw), a vote far ahead, a TimeoutNow.
        var append = new RaftMessage { Type = AppendMessageType, From = leader, To = follower, Term = before.Term, Index = 1_000, LogTerm = before.Term, Commit = 1_001 };
        append.Entries.Add(new RaftEntry { Index = 1_001, Term = before.Term, Type = 0, Data = ByteString.CopyFromUtf8("forged") });
        RaftMessage[] forged =
        [
            append,
            new RaftMessage { Type = VoteMessageType, From = leader, To = follower, Term = before.Term + 100, LogTerm = before.Term + 100, Index = 1_000_000 },
            new RaftMessage { Type = TimeoutNowMessageType, From = leader, To = follower, Term = before.Term },
        ];
        foreach (var message in forged)
        {
            var batch = new RaftMessageBatch();
            batch.Messages.Add(message);
            var refused = await Assert.ThrowsAsync<RpcException>(async () => await peer.DeliverAsync(batch, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(5))));
            Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);

            // The long-lived stream the masters use is guarded the same way.
            using var stream = peer.DeliverStream(new CallOptions(deadline: DateTime.UtcNow.AddSeconds(5)));
            try
            {
                await stream.RequestStream.WriteAsync(batch);
                await stream.RequestStream.CompleteAsync();
            }
            catch (RpcException)
            {
                // The server may refuse on the headers before the message is written; the status follows.
            }

            var streamed = await Assert.ThrowsAsync<RpcException>(async () => await stream.ResponseAsync);
            Assert.Equal(StatusCode.Unauthenticated, streamed.StatusCode);
        }

        // Nothing moved, and the state still agrees: a write after the forgeries reaches every
        // master, whose digests are equal at equal applied indexes.
        foreach (var master in Cluster.Masters)
        {
            var after = await Cluster.ClusterInfoAsync(master.Id);
            Assert.Equal(leader, after.LeaderId);
            Assert.Equal(before.Term, after.Term);
        }

        await client.CreateDirectoryAsync("/peer-auth/after", recursive: true);
        await AssertDigestsConvergeAsync();
        Assert.True(await RejectedAsync(follower, "unauthenticated") >= 2 * forged.Length);
    }

    [Fact]
    public async Task Messages_from_a_non_member_or_for_another_master_are_permission_denied_and_counted()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var before = await Cluster.ClusterInfoAsync(leader);
        var follower = before.Members.Select(m => m.Id).First(id => id != leader);
        var peer = new RaftPeer.RaftPeerClient(Cluster.Channel(Cluster.Master(follower).PeerAddress).Channel);
        var headers = new Metadata { { "hamaster-cluster-secret", SecretFileClusterFixture.Secret } };
        var unknownBefore = await RejectedAsync(follower, "unknown_sender");
        var misaddressedBefore = await RejectedAsync(follower, "wrong_recipient");

        // Even with the secret: master 99 is not a member; a message for master 77 is not for this one.
        var fromStranger = new RaftMessageBatch();
        fromStranger.Messages.Add(new RaftMessage { Type = VoteMessageType, From = 99, To = follower, Term = before.Term + 100, LogTerm = before.Term + 100, Index = 1_000_000 });
        var stranger = await Assert.ThrowsAsync<RpcException>(async () => await peer.DeliverAsync(fromStranger, new CallOptions(headers, DateTime.UtcNow.AddSeconds(5))));
        Assert.Equal(StatusCode.PermissionDenied, stranger.StatusCode);
        Assert.Contains("99", stranger.Status.Detail, StringComparison.Ordinal);

        var misaddressed = new RaftMessageBatch();
        misaddressed.Messages.Add(new RaftMessage { Type = TimeoutNowMessageType, From = leader, To = 77, Term = before.Term });
        var wrong = await Assert.ThrowsAsync<RpcException>(async () => await peer.DeliverAsync(misaddressed, new CallOptions(headers, DateTime.UtcNow.AddSeconds(5))));
        Assert.Equal(StatusCode.PermissionDenied, wrong.StatusCode);

        Assert.Equal(unknownBefore + 1, await RejectedAsync(follower, "unknown_sender"));
        Assert.Equal(misaddressedBefore + 1, await RejectedAsync(follower, "wrong_recipient"));
        foreach (var master in Cluster.Masters)
        {
            var after = await Cluster.ClusterInfoAsync(master.Id);
            Assert.Equal(leader, after.LeaderId);
            Assert.Equal(before.Term, after.Term);
        }
    }

    [Fact]
    public async Task Raft_calls_from_a_master_of_another_cluster_are_permission_denied_and_counted()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var client = Cluster.CreateClient();
        await client.CreateDirectoryAsync("/cluster-id/before", recursive: true);
        var before = await Cluster.ClusterInfoAsync(leader);
        var follower = before.Members.Select(m => m.Id).First(id => id != leader);
        var clusterId = await ClusterIdAsync(Cluster.Master(follower));
        Assert.Matches("^[0-9a-f]{16}$", clusterId);
        foreach (var master in Cluster.Masters) Assert.Equal(clusterId, await ClusterIdAsync(master));
        var peer = new RaftPeer.RaftPeerClient(Cluster.Channel(Cluster.Master(follower).PeerAddress).Channel);
        var rejectedBefore = await RejectedAsync(follower, "cluster_id");

        // The right secret and a real master id, but another cluster's id (copied deploy files):
        // refused before any message is looked at, on the unary call and on the stream alike.
        var otherCluster = new Metadata { { "hamaster-cluster-secret", SecretFileClusterFixture.Secret }, { "hamaster-cluster-id", "another-cluster-7" } };
        var append = new RaftMessage { Type = AppendMessageType, From = leader, To = follower, Term = before.Term, Index = 1_000, LogTerm = before.Term, Commit = 1_001 };
        append.Entries.Add(new RaftEntry { Index = 1_001, Term = before.Term, Type = 0, Data = ByteString.CopyFromUtf8("forged") });
        var batch = new RaftMessageBatch();
        batch.Messages.Add(append);
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await peer.DeliverAsync(batch, new CallOptions(otherCluster, DateTime.UtcNow.AddSeconds(5))));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains($"cluster '{clusterId}'", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("cluster 'another-cluster-7'", refused.Status.Detail, StringComparison.Ordinal);

        using (var stream = peer.DeliverStream(new CallOptions(otherCluster, DateTime.UtcNow.AddSeconds(5))))
        {
            try
            {
                await stream.RequestStream.WriteAsync(batch);
                await stream.RequestStream.CompleteAsync();
            }
            catch (RpcException)
            {
                // Refused on the headers before the message was written; the status follows.
            }

            var streamed = await Assert.ThrowsAsync<RpcException>(async () => await stream.ResponseAsync);
            Assert.Equal(StatusCode.PermissionDenied, streamed.StatusCode);
        }

        Assert.Equal(rejectedBefore + 2, await RejectedAsync(follower, "cluster_id"));

        // With this cluster's id the same kind of call passes the check and meets the next one
        // (master 99 is not a member), so it is the id that made the difference.
        var sameCluster = new Metadata { { "hamaster-cluster-secret", SecretFileClusterFixture.Secret }, { "hamaster-cluster-id", clusterId } };
        var fromStranger = new RaftMessageBatch();
        fromStranger.Messages.Add(new RaftMessage { Type = VoteMessageType, From = 99, To = follower, Term = before.Term + 100, LogTerm = before.Term + 100, Index = 1_000_000 });
        var stranger = await Assert.ThrowsAsync<RpcException>(async () => await peer.DeliverAsync(fromStranger, new CallOptions(sameCluster, DateTime.UtcNow.AddSeconds(5))));
        Assert.Contains("not a member", stranger.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(rejectedBefore + 2, await RejectedAsync(follower, "cluster_id"));

        foreach (var master in Cluster.Masters)
        {
            var after = await Cluster.ClusterInfoAsync(master.Id);
            Assert.Equal(leader, after.LeaderId);
            Assert.Equal(before.Term, after.Term);
        }

        await client.CreateDirectoryAsync("/cluster-id/after", recursive: true);
        await AssertDigestsConvergeAsync();
    }

    [Fact]
    public async Task Api_endpoints_need_the_secret_and_the_probes_and_metrics_stay_open()
    {
        var web = Cluster.Masters[0].WebAddress;
        using (var anonymous = await _http.GetAsync(new Uri($"http://{web}/api/digest")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Contains("Bearer", await anonymous.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var wrong = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{web}/api/digest")))
        {
            wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-cluster-secret");
            using var response = await _http.SendAsync(wrong);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        var (index, digest) = await DigestAsync(Cluster.Masters[0]);
        Assert.True(index > 0);
        Assert.Equal(64, digest.Length);

        // The header form works too.
        using (var header = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{web}/api/digest")))
        {
            header.Headers.Add("hamaster-cluster-secret", SecretFileClusterFixture.Secret);
            using var response = await _http.SendAsync(header);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        foreach (var open in new[] { "/healthz", "/readyz", "/metrics", "/" })
        {
            using var response = await _http.GetAsync(new Uri($"http://{web}{open}"));
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{open}: {response.StatusCode}");
            Assert.DoesNotContain(SecretFileClusterFixture.Secret, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The status APIs need the secret too (security is on), and answer with it.
        foreach (var guarded in new[] { "/api/status", "/api/cluster" })
        {
            using (var anonymous = await _http.GetAsync(new Uri($"http://{web}{guarded}")))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
                Assert.Contains("cluster secret", await anonymous.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{web}{guarded}"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SecretFileClusterFixture.Secret);
            using var response = await _http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        }
    }

    /// <summary>The cluster id master <paramref name="master"/> reports on /api/status (asked with the secret).</summary>
    private async Task<string> ClusterIdAsync(MasterProcess master)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{master.WebAddress}/api/status"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SecretFileClusterFixture.Secret);
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("clusterId").GetString()!;
    }

    private async Task<(ulong AppliedIndex, string Digest)> DigestAsync(MasterProcess master)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{master.WebAddress}/api/digest"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SecretFileClusterFixture.Secret);
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (document.RootElement.GetProperty("appliedIndex").GetUInt64(), document.RootElement.GetProperty("digest").GetString()!);
    }

    /// <summary>Bounded wait until every master reports the same applied index, then equal digests.</summary>
    private async Task AssertDigestsConvergeAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        List<(ulong AppliedIndex, string Digest)> digests = [];
        while (DateTime.UtcNow < deadline)
        {
            digests = [];
            foreach (var master in Cluster.Masters) digests.Add(await DigestAsync(master));
            if (digests.Select(d => d.AppliedIndex).Distinct().Count() == 1) break;
            await Task.Delay(100);
        }

        Assert.Single(digests.Select(d => d.AppliedIndex).Distinct());
        Assert.Single(digests.Select(d => d.Digest).Distinct());
    }

    /// <summary>hamaster_peer_rejected_messages_total{reason} on master <paramref name="id"/>'s /metrics (0 when absent).</summary>
    private async Task<long> RejectedAsync(ulong id, string reason)
    {
        var text = await _http.GetStringAsync(new Uri($"http://{Cluster.Master(id).WebAddress}/metrics"));
        long total = 0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("hamaster_peer_rejected_messages_total{", StringComparison.Ordinal) && line.Contains($"reason=\"{reason}\"", StringComparison.Ordinal))
            {
                total += (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return total;
    }
}
