using System.Globalization;
using HaMaster.Cluster.Tests.Infrastructure;
using Grpc.Core;
using HaMaster.Protos.V1;

namespace HaMaster.Cluster.Tests;

/// <summary>Issue 6: writes through a follower; linearizable reads on followers see the latest acknowledged write.</summary>
[Collection(SharedClusterCollection.Name)]
public sealed class FollowerTests(SharedClusterFixture fixture)
{
    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task A_write_sent_to_a_follower_is_forwarded_to_the_leader_and_names_it_in_the_trailer()
    {
        var (leader, followers) = await Cluster.RolesAsync();
        var leaderAddress = Cluster.Master(leader).ClientAddress;
        foreach (var follower in followers)
        {
            var directory = $"/forwarded-{follower}";
            // A bare channel: no client library, no redirects; the follower must do the work.
            var (response, trailers) = await Expect.RetryUnavailableAsync(async () =>
            {
                using var call = Cluster.Channel(follower).FileSystem.CreateDirectoryAsync(new CreateDirectoryRequest { Path = directory }, deadline: DateTime.UtcNow.AddSeconds(20));
                return (await call.ResponseAsync, call.GetTrailers());
            });
            Assert.Equal(directory, response.Info.Path);
            Assert.Equal(leaderAddress, trailers.GetValue("hamaster-leader"));

            // The pinned, single-attempt client library view does the same.
            var raw = Cluster.RawClient(follower);
            var file = await Expect.RetryUnavailableAsync(() => raw.CreateFileAsync($"{directory}/file").AsTask());
            Assert.Equal(InodeKind.File, file.Kind);
            Assert.Null(raw.CachedLeader);

            // The leader has both, and a duplicate through the follower gets the leader's verdict.
            var onLeader = Cluster.RawClient(leader);
            Assert.Equal(file.Id, (await onLeader.GetStatusAsync($"{directory}/file")).Id);
            var duplicate = await Expect.StatusAsync(StatusCode.AlreadyExists, () => raw.CreateFileAsync($"{directory}/file").AsTask());
            Assert.Equal(Cluster.Master(follower).ClientAddress, duplicate.Master);
        }

        Assert.Equal(leader, await Cluster.WaitForLeaderAsync());
    }

    [Fact]
    public async Task Concurrent_linearizable_reads_on_a_follower_share_ReadIndex_requests()
    {
        var (leader, followers) = await Cluster.RolesAsync();
        var follower = followers[0];
        await Expect.RetryUnavailableAsync(() => Cluster.RawClient(leader).CreateFileAsync("/batched-reads/file", recursive: true).AsTask());
        var reader = Cluster.RawClient(follower);
        _ = await Expect.RetryUnavailableAsync(() => reader.GetStatusAsync("/batched-reads/file", Consistency.Linearizable).AsTask());
        var readsBefore = await Cluster.MetricAsync(follower, "hamaster_raft_linearizable_reads_total");
        var requestsBefore = await Cluster.MetricAsync(follower, "hamaster_raft_read_index_requests_total");

        // 400 reads at once: one ReadIndex is out at a time and every read that arrives meanwhile
        // waits for the next, so a handful of leader round trips confirm all of them.
        const int reads = 400;
        var statuses = await Task.WhenAll(Enumerable.Range(0, reads).Select(_ => reader.GetStatusAsync("/batched-reads/file", Consistency.Linearizable).AsTask()));
        Assert.All(statuses, s => Assert.Equal("/batched-reads/file", s.Path));

        var confirmed = await Cluster.MetricAsync(follower, "hamaster_raft_linearizable_reads_total") - readsBefore;
        var requests = await Cluster.MetricAsync(follower, "hamaster_raft_read_index_requests_total") - requestsBefore;
        Assert.Equal(reads, confirmed);
        Assert.InRange(requests, 1, reads / 10);
    }

    [Fact]
    public async Task Linearizable_reads_on_every_follower_see_the_latest_acknowledged_write()
    {
        var (leader, followers) = await Cluster.RolesAsync();
        var writer = Cluster.RawClient(leader);
        var readers = followers.Select(Cluster.RawClient).ToArray();
        await Expect.RetryUnavailableAsync(() => writer.CreateDirectoryAsync("/linearizable", recursive: true).AsTask());
        await Expect.RetryUnavailableAsync(() => writer.CreateFileAsync("/linearizable/register").AsTask());

        for (var round = 1; round <= 12; round++)
        {
            // Overwrite a value (the mode) and create a file; every follower must see both right after the acknowledgement.
            var mode = (uint)(0x100 + round);
            var written = await Expect.RetryUnavailableAsync(() => writer.SetAttributeAsync(new SetAttributeRequest { Path = "/linearizable/register", Mode = mode }).AsTask());
            Assert.Equal(mode, written.Info.Mode);
            var name = $"f{round.ToString("D2", CultureInfo.InvariantCulture)}";
            await Expect.RetryUnavailableAsync(() => writer.CreateFileAsync($"/linearizable/{name}").AsTask());

            foreach (var reader in readers)
            {
                var status = await Expect.RetryUnavailableAsync(() => reader.GetStatusAsync("/linearizable/register", Consistency.Linearizable).AsTask());
                Assert.Equal(mode, status.Mode);
                var listing = await Expect.RetryUnavailableAsync(() => reader.ListStatusAsync("/linearizable", consistency: Consistency.Linearizable).AsTask());
                Assert.Equal(round + 1, listing.Entries.Count);
                Assert.Contains(listing.Entries, e => e.Name == name);
            }
        }
    }

    [Fact]
    public async Task A_write_through_one_follower_is_visible_to_a_linearizable_read_on_the_other()
    {
        var (_, followers) = await Cluster.RolesAsync();
        var (a, b) = (Cluster.RawClient(followers[0]), Cluster.RawClient(followers[1]));
        await Expect.RetryUnavailableAsync(() => a.CreateDirectoryAsync("/cross", recursive: true).AsTask());
        for (var i = 0; i < 8; i++)
        {
            var (writer, reader) = i % 2 == 0 ? (a, b) : (b, a);
            var path = $"/cross/n{i}";
            var created = await Expect.RetryUnavailableAsync(() => writer.CreateFileAsync(path).AsTask());
            var seen = await Expect.RetryUnavailableAsync(() => reader.GetStatusAsync(path).AsTask());
            Assert.Equal(created.Id, seen.Id);
        }
    }
}
