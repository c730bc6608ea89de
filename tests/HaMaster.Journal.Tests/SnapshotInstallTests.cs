using HaMaster.Chaos.Core.Files;

namespace HaMaster.Journal.Tests;

/// <summary>
/// A snapshot received from a leader is staged, not published, until the Raft host installs it
/// (issue 21): a received but uninstalled snapshot is never offered for restore or counted by
/// garbage collection, and an install recorded before a crash is found again on restart.
/// </summary>
public class SnapshotInstallTests
{
    private static SnapshotManifest Publish(SnapshotStore store, ulong index, ulong term)
    {
        using var writer = store.BeginSnapshot(index, term, new byte[] { 7 });
        Directory.CreateDirectory(writer.Directory);
        File.WriteAllText(Path.Combine(writer.Directory, "state"), $"{index}/{term}");
        return writer.Commit();
    }

    private static async Task<SnapshotManifest> Receive(SnapshotStore source, SnapshotManifest manifest, SnapshotStore target)
    {
        using var reader = source.OpenForStreaming(manifest);
        using var receiver = target.BeginReceive(SnapshotManifest.FromBytes(manifest.ToBytes()));
        while (await reader.ReadNextAsync() is { } chunk) receiver.WriteChunk(chunk);
        return receiver.Commit();
    }

    [Fact]
    public async Task A_received_snapshot_is_staged_and_published_only_by_its_install()
    {
        using var dir = new TempDirectory();
        var leader = new SnapshotStore(dir.Sub("leader"));
        var follower = new SnapshotStore(dir.Sub("follower"));
        var own = Publish(follower, 10, 1);
        var sent = Publish(leader, 50, 2);

        var staged = await Receive(leader, sent, follower);

        Assert.Equal(own.Index, follower.Latest!.Index); // not the node's truth yet
        Assert.True(follower.Holds(50, 2));
        Assert.False(follower.Holds(50, 3));
        Assert.Equal("50/2", File.ReadAllText(Path.Combine(follower.PathForInstall(staged), "state")));
        Assert.Null(follower.PendingInstall);

        follower.RecordInstall(staged);
        var reopened = new SnapshotStore(dir.Sub("follower")); // a crash here: the intent survives
        Assert.Equal(50UL, reopened.PendingInstall!.Index);
        Assert.Equal(10UL, reopened.Latest!.Index);

        reopened.CompleteInstall(staged);
        Assert.Null(reopened.PendingInstall);
        Assert.Equal(50UL, reopened.Latest!.Index);
        Assert.Empty(reopened.ListStaged());
        Assert.Equal("50/2", File.ReadAllText(Path.Combine(reopened.PathOf(reopened.Latest), "state")));
        reopened.CompleteInstall(staged); // idempotent: a crash before the intent was removed redoes it
        Assert.Equal(50UL, reopened.Latest!.Index);
    }

    [Fact]
    public void An_install_needs_a_staged_or_published_snapshot()
    {
        using var dir = new TempDirectory();
        var leader = new SnapshotStore(dir.Sub("leader"));
        var follower = new SnapshotStore(dir.Sub("follower"));
        var unknown = Publish(leader, 5, 1);
        var e = Assert.Throws<InvalidOperationException>(() => follower.RecordInstall(unknown));
        Assert.Contains("neither staged nor published", e.Message);
        Assert.Null(follower.PendingInstall);
    }

    [Fact]
    public async Task Garbage_collection_ignores_uninstalled_snapshots_and_keeps_the_protected_one()
    {
        // Issue 21 item 7: collection kept the newest two by index including received but
        // uninstalled snapshots, and could delete the snapshot the log points to.
        using var dir = new TempDirectory();
        var leader = new SnapshotStore(dir.Sub("leader"));
        var follower = new SnapshotStore(dir.Sub("follower"), keepNewest: 1);
        var installed = Publish(follower, 20, 1);
        await Receive(leader, Publish(leader, 60, 2), follower);
        await Receive(leader, Publish(leader, 70, 2), follower);

        follower.CollectGarbage(protect: installed);

        Assert.Equal(20UL, follower.Latest!.Index);
        Assert.Equal([70UL], follower.ListStaged().Select(m => m.Index)); // the older staged one is superseded

        // A snapshot the log points to survives even when newer ones outrank it.
        var newer = Publish(follower, 30, 1);
        follower.CollectGarbage(protect: installed);
        Assert.Equal([20UL, 30UL], follower.List().Select(m => m.Index));
        follower.CollectGarbage(protect: newer);
        Assert.Equal([30UL], follower.List().Select(m => m.Index));
    }

    [Fact]
    public async Task Garbage_collection_keeps_the_snapshot_being_installed()
    {
        using var dir = new TempDirectory();
        var leader = new SnapshotStore(dir.Sub("leader"));
        var follower = new SnapshotStore(dir.Sub("follower"));
        var first = await Receive(leader, Publish(leader, 60, 2), follower);
        await Receive(leader, Publish(leader, 70, 2), follower);
        follower.RecordInstall(first);

        follower.CollectGarbage();

        Assert.Equal([60UL, 70UL], follower.ListStaged().Select(m => m.Index));
        follower.CompleteInstall(first);
        Publish(follower, 80, 2);
        follower.CollectGarbage();
        Assert.Empty(follower.ListStaged()); // at or below the newest published snapshot
    }
}
