using Grpc.Core;
using HaMaster.Chaos.Core.Processes;
using HaMaster.Cluster.Tests.Infrastructure;
using HaMaster.Protos.V1;
using FileInfo = HaMaster.Protos.V1.FileInfo;

namespace HaMaster.Cluster.Tests;

/// <summary>Issue 18: TTL actions run by the leader's checker reach every master.</summary>
[Collection(SharedClusterCollection.Name)]
public sealed class TtlTests(SharedClusterFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Expired_inodes_are_deleted_or_freed_on_every_master()
    {
        var (leader, _) = await Cluster.RolesAsync();
        var fs = Cluster.Channel(leader).FileSystem;
        async Task<FileInfo> Call(Func<CallOptions, Task<FileInfo>> call) =>
            await Expect.RetryUnavailableAsync(() => call(new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20))));

        // A directory whose ttl takes its subtree, a file with DELETE, a file with FREE, and a file
        // whose ttl is long enough never to run out during the test. The directory's and the freed
        // file's ttl are set last, once their content is in place (a ttl counts from creation, so a
        // ttl of 1 ms set later is due at once).
        await Call(async o => (await fs.CreateDirectoryAsync(new CreateDirectoryRequest { Path = "/ttl/dir", Recursive = true }, o)).Info);
        await Call(async o => (await fs.CreateFileAsync(new CreateFileRequest { Path = "/ttl/dir/inner", TtlMs = 3_600_000 }, o)).Info);
        await Call(async o => (await fs.CreateFileAsync(new CreateFileRequest { Path = "/ttl/gone", TtlMs = 1000 }, o)).Info);
        await Call(async o => (await fs.CreateFileAsync(new CreateFileRequest { Path = "/ttl/freed" }, o)).Info);
        await Call(async o => (await fs.CreateFileAsync(new CreateFileRequest { Path = "/ttl/kept", TtlMs = 3_600_000 }, o)).Info);
        var blockId = await Expect.RetryUnavailableAsync(() => Cluster.RawClient(leader).GetNewBlockIdForFileAsync("/ttl/freed").AsTask());
        var freedBefore = await Call(async o => (await fs.CompleteFileAsync(new CompleteFileRequest { Path = "/ttl/freed", Length = 10 }, o)).Info);
        Assert.Equal([blockId], freedBefore.BlockIds);
        var set = await Call(async o => (await fs.SetAttributeAsync(new SetAttributeRequest { Path = "/ttl/freed", TtlMs = 1, TtlAction = TtlAction.Free }, o)).Info);
        Assert.Equal((1L, TtlAction.Free), (set.TtlMs, set.TtlAction));
        await Call(async o => (await fs.SetAttributeAsync(new SetAttributeRequest { Path = "/ttl/dir", TtlMs = 1 }, o)).Info);

        foreach (var master in Cluster.Masters)
        {
            var client = Cluster.RawClient(master.Id);
            await Eventually.TrueAsync($"master {master.Id} to apply the expiries", async () =>
            {
                var listing = (await client.ListStatusAsync("/ttl", consistency: Consistency.Stale)).Entries.Select(i => i.Name).Order().ToList();
                if (!listing.SequenceEqual(["freed", "kept"])) return false;
                var freed = await client.GetStatusAsync("/ttl/freed", Consistency.Stale);
                return freed.BlockIds.Count == 0 && freed.TtlMs == 0;
            }, Wait, Cluster.Diagnostics);

            var freedAfter = await client.GetStatusAsync("/ttl/freed", Consistency.Stale);
            Assert.Equal((10UL, true, freedBefore.Id), (freedAfter.Length, freedAfter.Completed, freedAfter.Id));
            Assert.Equal(3_600_000L, (await client.GetStatusAsync("/ttl/kept", Consistency.Stale)).TtlMs);
            await Expect.StatusAsync(StatusCode.NotFound, () => client.GetStatusAsync("/ttl/dir/inner", Consistency.Stale).AsTask());
        }

        // Whoever led when they expired counted them (leadership may have moved on a loaded machine).
        double deleted = 0, freedCount = 0;
        foreach (var master in Cluster.Masters)
        {
            deleted += await MetricOrZeroAsync(master.Id, "hamaster_ttl_expired_total{action=\"delete\"}");
            freedCount += await MetricOrZeroAsync(master.Id, "hamaster_ttl_expired_total{action=\"free\"}");
        }

        Assert.True(deleted >= 2, $"expected at least 2 inodes expired with delete, metrics say {deleted}");
        Assert.True(freedCount >= 1, $"expected at least 1 inode freed, metrics say {freedCount}");
    }

    private async Task<double> MetricOrZeroAsync(ulong id, string sample)
    {
        try
        {
            return await Cluster.MetricAsync(id, sample);
        }
        catch (InvalidOperationException)
        {
            return 0; // this master never expired anything as leader
        }
    }
}
