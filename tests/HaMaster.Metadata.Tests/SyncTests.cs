using HaMaster.Chaos.Core.Files;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Tests;

/// <summary>Apply rules of metadata sync differences (issue 18).</summary>
public sealed class SyncTests
{
    private static LoadedEntry File(string name, ulong length, string fingerprint) => new() { Name = name, Kind = InodeKind.File, Length = length, ModificationTimeMs = 1234, Fingerprint = fingerprint };

    private static LoadedEntry Dir(string name) => new() { Name = name, Kind = InodeKind.Directory, Fingerprint = "d" };

    private static JournalEntry Sync(EntryFactory f, string path, ulong mountId, bool complete, LoadedEntry[] upserts, params string[] removed) =>
        f.Entry(e =>
        {
            e.SyncMetadata = new SyncMetadataCommand { Path = path, MountId = mountId, Complete = complete };
            e.SyncMetadata.Upserts.Add(upserts);
            e.SyncMetadata.Removed.Add(removed);
        });

    [Theory]
    [MemberData(nameof(StoreKinds.All), MemberType = typeof(StoreKinds))]
    public void DifferencesCreateUpdateReplaceAndRemoveOnlyWhatTheStoreOwns(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        var f = new EntryFactory();
        sm.Apply(f, f.Entry(e => e.Mount = new MountRequest { Path = "/m", UfsUri = "file:///srv/m", Options = new MountOptions() }));
        var mountId = sm.Mounts.Mounts.Single().MountId;
        var first = sm.Apply(f, Sync(f, "/m", mountId, true, [File("a", 1, "f:1:1:x"), File("b", 2, "f:2:1:x"), Dir("c"), File("gone", 3, "f:3:1:x")]));
        Assert.Equal((4UL, 0UL, 0UL), (first.SyncCounts.Created, first.SyncCounts.Updated, first.SyncCounts.Deleted));
        sm.Apply(f, Sync(f, "/m/c", mountId, true, [File("inner", 1, "f:1:1:y")]));
        sm.Apply(f, f.Create("/m/local")); // created through HaMaster, not persisted

        var synced = sm.GetStatus("/m").Value!;
        Assert.True(synced.LastSyncMs > 0);
        Assert.Equal(5UL, synced.ChildCount);

        // a changed, b unchanged, c became a file, gone and local missing from the store.
        var second = sm.Apply(f, Sync(f, "/m", mountId, true, [File("a", 9, "f:9:2:x"), File("b", 2, "f:2:1:x"), File("c", 4, "f:4:1:z")], "gone", "local"));
        Assert.Equal(MetadataStatus.Ok, second.Status);
        Assert.Equal((0UL, 2UL, 1UL), (second.SyncCounts.Created, second.SyncCounts.Updated, second.SyncCounts.Deleted));
        Assert.Equal(9UL, sm.GetStatus("/m/a").Value!.Length);
        Assert.Equal(InodeKind.File, sm.GetStatus("/m/c").Value!.Kind);
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.GetStatus("/m/c/inner").Status); // c is a file now
        Assert.Equal(MetadataStatus.NotFound, sm.GetStatus("/m/gone").Status);
        Assert.Equal(MetadataStatus.Ok, sm.GetStatus("/m/local").Status);
        Assert.Equal(4UL, sm.GetStatus("/m").Value!.ChildCount);

        // The same entry again (a retry after a failover) changes nothing.
        var digest = sm.Digest();
        var retried = sm.Apply(f, Sync(f, "/m", mountId, false, [File("a", 9, "f:9:2:x"), File("c", 4, "f:4:1:z")], "gone"));
        Assert.Equal((0UL, 0UL, 0UL), (retried.SyncCounts.Created, retried.SyncCounts.Updated, retried.SyncCounts.Deleted));
        Assert.Equal(digest, sm.Digest());
    }

    [Fact]
    public void ASyncThroughAMountThatIsGoneOrTooLargeChangesNothing()
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("heap"));
        var f = new EntryFactory();
        sm.Apply(f, f.Entry(e => e.Mount = new MountRequest { Path = "/m", UfsUri = "file:///srv/m", Options = new MountOptions() }));
        var mountId = sm.Mounts.Mounts.Single().MountId;
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, Sync(f, "/m", mountId + 100, true, [File("a", 1, "f")])).Status);
        var huge = Enumerable.Range(0, InputLimits.MaxLoadEntriesPerCommand + 1).Select(i => File($"n{i}", 0, "f")).ToArray();
        Assert.Equal(MetadataStatus.InvalidArgument, sm.Apply(f, Sync(f, "/m", mountId, true, huge)).Status);
        Assert.Equal(0UL, sm.GetStatus("/m").Value!.ChildCount);
    }
}
