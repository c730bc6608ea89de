using HaMaster.Chaos.Core.Processes;
using HaMaster.Cluster.Tests.Infrastructure;
using HaMaster.Protos.V1;

namespace HaMaster.Cluster.Tests;

/// <summary>
/// Issue 18: a master added after the mount was made, once the log holding the Mount and
/// LoadMetadata entries has been compacted away (snapshots every 30 entries, 10 kept behind),
/// gets the mount table and the loaded metadata from the snapshot alone, holds the same state
/// (digest) and serves the mount: it loads and syncs from the store like any other master.
/// </summary>
public sealed class MountSnapshotTests(CompactingClusterFixture fixture) : IClassFixture<CompactingClusterFixture>, IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private const ulong LogKeptBehindSnapshot = 10;
    private readonly string _store = Directory.CreateTempSubdirectory("hamaster-mount-snap-").FullName;

    private TestCluster Cluster => fixture.Cluster;

    public void Dispose() => Directory.Delete(_store, recursive: true);

    [Fact]
    public async Task A_master_added_after_compaction_gets_mounts_and_loaded_metadata_by_snapshot_and_serves_them()
    {
        await Cluster.EnsureAllRunningAsync();
        const int fileCount = 300;
        Directory.CreateDirectory(Path.Join(_store, "big"));
        for (var i = 0; i < fileCount; i++) File.WriteAllText(Path.Join(_store, "big", $"f{i:D4}"), "x");
        Directory.CreateDirectory(Path.Join(_store, "sub"));
        File.WriteAllText(Path.Join(_store, "sub", "b.txt"), "0123456789");

        var admin = Cluster.CreateAdminClient();
        await admin.CreateDirectoryAsync("/snap", recursive: true);
        await admin.MountAsync("/snap/m", "file://" + _store, new MountOptions { Shared = true });
        var loaded = await NamesAsync(admin, "/snap/m/big", Consistency.Linearizable, LoadMetadataType.Once);
        Assert.Equal(fileCount, loaded.Count);
        Assert.Equal(10UL, (await admin.GetStatusAsync("/snap/m/sub/b.txt")).Length);
        var mountedThrough = await Cluster.AppliedIndexAsync(await Cluster.WaitForLeaderAsync());

        // Unrelated writes until the leader's snapshot is past the mount and its log no longer holds it.
        await admin.CreateDirectoryAsync("/snap/filler");
        var filler = 0;
        await Eventually.TrueAsync("the leader to compact its log past the mount entries", async () =>
        {
            for (var i = 0; i < 10; i++) await admin.CreateDirectoryAsync($"/snap/filler/d{filler++:D4}");
            var leader = await Cluster.WaitForLeaderAsync();
            var info = await Cluster.ClusterInfoAsync(leader);
            return info.Members.Single(m => m.Id == leader).SnapshotIndex > mountedThrough + LogKeptBehindSnapshot;
        }, Wait, Cluster.Diagnostics);

        var newcomer = await Cluster.StartJoiningMasterAsync();
        var added = await admin.AddMasterAsync(TestCluster.AddRequestFor(newcomer));
        Assert.True(Assert.Single(added.Members, m => m.Id == newcomer.Id).Voter, "AddMaster returns once the new master is a voter");
        var installed = await newcomer.WaitForOutputAsync(l => l.Contains("installed snapshot", StringComparison.Ordinal), Wait);
        Assert.Contains("received from the leader", installed);

        // Its own copy, read locally and without touching the store: the mount table and the loaded inodes.
        var local = Cluster.RawClient(newcomer.Id);
        await Eventually.TrueAsync("the new master's local copy of the loaded directory", async () =>
            (await NamesAsync(local, "/snap/m/big", Consistency.Stale, LoadMetadataType.Never)).SequenceEqual(loaded), Wait, Cluster.Diagnostics);
        var table = await local.GetMountTableAsync(Consistency.Stale);
        var mount = Assert.Single(table, m => m.Path == "/snap/m");
        Assert.Equal("file://" + _store, mount.UfsUri);
        Assert.True(mount.Shared, "the mount's options travel in the snapshot");
        var b = (await local.GetStatusAsync(new GetStatusRequest { Path = "/snap/m/sub/b.txt", Consistency = Consistency.Stale, LoadMetadata = LoadMetadataType.Never })).Info;
        Assert.Equal((10UL, true), (b.Length, b.Persisted));
        Assert.StartsWith("f:10:", b.UfsFingerprint);
        await Cluster.AllDigestsEqualAsync(Wait);

        // The new master serves the mount: an outside change is seen through it once synced, identically everywhere.
        File.WriteAllText(Path.Join(_store, "big", "late"), "y");
        Assert.DoesNotContain("late", await NamesAsync(local, "/snap/m/big", Consistency.Linearizable, LoadMetadataType.Once));
        var synced = await local.SyncMetadataAsync("/snap/m/big");
        Assert.Equal(1UL, synced.Created);
        Assert.Contains("late", await NamesAsync(local, "/snap/m/big", Consistency.Linearizable, LoadMetadataType.Never));
        await Cluster.AllDigestsEqualAsync(Wait);
    }

    private static async Task<List<string>> NamesAsync(HaMaster.Client.HaMasterClient client, string path, Consistency consistency, LoadMetadataType load)
    {
        var names = new List<string>();
        await foreach (var entry in client.ListAllAsync(path, 100, consistency, load)) names.Add(entry.Name);
        return names;
    }
}
