using HaMaster.Chaos.Core.Files;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Tests;

/// <summary>Apply rules of the mount table and of metadata loaded from stores (issue 18).</summary>
public sealed class MountTests
{
    private static JournalEntry Mount(EntryFactory f, string path, string uri, bool shared = false, bool readOnly = false, params (string Key, string Value)[] properties) =>
        f.Entry(e =>
        {
            e.Mount = new MountRequest { Path = path, UfsUri = uri, Options = new MountOptions { Shared = shared, ReadOnly = readOnly } };
            foreach (var (key, value) in properties) e.Mount.Options.Properties[key] = value;
        });

    private static JournalEntry Load(EntryFactory f, string path, ulong mountId, bool complete, params (string Name, bool Dir, ulong Length, string Fingerprint)[] entries) =>
        f.Entry(e =>
        {
            e.LoadMetadata = new LoadMetadataCommand { Path = path, MountId = mountId, ChildrenComplete = complete };
            foreach (var (name, dir, length, fingerprint) in entries)
            {
                e.LoadMetadata.Entries.Add(new LoadedEntry { Name = name, Kind = dir ? InodeKind.Directory : InodeKind.File, Length = length, ModificationTimeMs = 1234, Fingerprint = fingerprint });
            }
        });

    [Theory]
    [MemberData(nameof(StoreKinds.All), MemberType = typeof(StoreKinds))]
    public void MountCreatesTheMountPointAndResolvesByLongestPrefix(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        var f = new EntryFactory();
        sm.Apply(f, f.Mkdir("/mnt"));
        var result = sm.Apply(f, Mount(f, "/mnt/data", "file:///srv/data", properties: [("aws.secretKey", "s3cr3t"), ("region", "eu")]));
        Assert.Equal(MetadataStatus.Ok, result.Status);
        Assert.Equal("***", result.Mount.Properties["aws.secretKey"]);
        Assert.Equal("eu", result.Mount.Properties["region"]);

        var info = sm.GetStatus("/mnt/data").Value!;
        Assert.True(info.MountPoint);
        Assert.True(info.Persisted);
        Assert.False(sm.GetStatus("/mnt").Value!.MountPoint);
        Assert.Equal(info.Id, sm.Mounts.Mounts.Single().MountId);
        Assert.Equal("s3cr3t", sm.Mounts.Mounts.Single().Properties["aws.secretKey"]);

        Assert.Equal("a/b", sm.Mounts.Resolve("/mnt/data/a/b")!.Value.StorePath);
        Assert.Equal("", sm.Mounts.Resolve("/mnt/data")!.Value.StorePath);
        Assert.Null(sm.Mounts.Resolve("/mnt/database"));
        Assert.Null(sm.Mounts.Resolve("/mnt"));
    }

    [Fact]
    public void MountRulesRefuseWithoutChangingAnything()
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("heap"));
        var f = new EntryFactory();
        sm.Apply(f, f.Mkdir("/exists"));
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, Mount(f, "/m", "file:///srv/a")).Status);
        var digest = sm.Digest();

        Assert.Equal(MetadataStatus.AlreadyExists, sm.Apply(f, Mount(f, "/exists", "file:///srv/b")).Status);
        Assert.Equal(MetadataStatus.AlreadyExists, sm.Apply(f, Mount(f, "/", "file:///srv/b")).Status);
        Assert.Equal(MetadataStatus.NotFound, sm.Apply(f, Mount(f, "/no/parent", "file:///srv/b")).Status);
        Assert.Equal(MetadataStatus.InvalidArgument, sm.Apply(f, Mount(f, "/m/inner", "file:///srv/b")).Status);
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, Mount(f, "/n", "file:///srv/a")).Status);
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, Mount(f, "/n", "file:///srv/a/sub")).Status);
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, Mount(f, "/n", "file:///srv")).Status);
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, Mount(f, "/n", "file:///srv/a", shared: true)).Status);
        Assert.Equal(MetadataStatus.InvalidArgument, sm.Apply(f, f.Entry(e => e.Unmount = new UnmountRequest { Path = "/" })).Status);
        Assert.Equal(MetadataStatus.NotFound, sm.Apply(f, f.Entry(e => e.Unmount = new UnmountRequest { Path = "/exists" })).Status);
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, f.Delete("/m")).Status);
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, f.Rename("/m", "/moved")).Status);
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, f.Rename("/exists", "/m/exists")).Status);
        Assert.Equal(digest, sm.Digest());

        // "/srv/ab" shares a string prefix with "/srv/a" but is another directory.
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, Mount(f, "/n", "file:///srv/ab")).Status);
    }

    [Fact]
    public void SharedMountsMayOverlapAndUpdateRechecksOverlap()
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("heap"));
        var f = new EntryFactory();
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, Mount(f, "/a", "file:///srv", shared: true)).Status);
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, Mount(f, "/b", "file:///srv/x", shared: true)).Status);
        var unshare = f.Entry(e => e.UpdateMount = new UpdateMountRequest { Path = "/b", Options = new MountOptions { Shared = false } });
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, unshare).Status);
        var readOnly = f.Entry(e => e.UpdateMount = new UpdateMountRequest { Path = "/b", Options = new MountOptions { Shared = true, ReadOnly = true } });
        Assert.True(sm.Apply(f, readOnly).Mount.ReadOnly);
        Assert.True(sm.Mounts.At("/b")!.ReadOnly);
        Assert.Equal(MetadataStatus.NotFound, sm.Apply(f, f.Entry(e => e.UpdateMount = new UpdateMountRequest { Path = "/c" })).Status);
    }

    [Theory]
    [MemberData(nameof(StoreKinds.All), MemberType = typeof(StoreKinds))]
    public void LoadIsIdempotentAndMarksChildrenLoaded(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        var f = new EntryFactory();
        var id = sm.Apply(f, Mount(f, "/m", "file:///srv")).Mount.MountId;
        var page1 = Load(f, "/m", id, false, ("a", false, 10, "f:10:1234:x"), ("d", true, 0, "d"));
        Assert.Equal(2UL, sm.Apply(f, page1).LoadedCount);
        Assert.False(sm.GetLoadState("/m").Value!.ChildrenLoaded);
        var digest = sm.Digest();
        Assert.Equal(0UL, sm.Apply(f, page1.Clone()).LoadedCount); // a retry after failover changes nothing
        Assert.Equal(digest, sm.Digest());

        Assert.Equal(1UL, sm.Apply(f, Load(f, "/m", id, true, ("z", false, 1, "f:1:1234:y"))).LoadedCount);
        Assert.True(sm.GetLoadState("/m").Value!.ChildrenLoaded);
        var a = sm.GetStatus("/m/a").Value!;
        Assert.Equal((10UL, true, true, "f:10:1234:x", 1234L), (a.Length, a.Completed, a.Persisted, a.UfsFingerprint, a.ModificationTimeMs));
        Assert.Equal(3UL, sm.GetStatus("/m").Value!.ChildCount);
        Assert.Equal(["a", "d", "z"], sm.ListStatus("/m").Value!.Entries.Select(e => e.Name).ToArray());

        // A changed fingerprint updates the file; a kind change is left for sync.
        Assert.Equal(1UL, sm.Apply(f, Load(f, "/m", id, false, ("a", false, 20, "f:20:1234:z"), ("d", false, 5, "f:5:1:1"))).LoadedCount);
        Assert.Equal(20UL, sm.GetStatus("/m/a").Value!.Length);
        Assert.Equal(InodeKind.Directory, sm.GetStatus("/m/d").Value!.Kind);

        // A load through a mount that is gone changes nothing.
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, Load(f, "/m", id + 100, true, ("new", false, 1, "f"))).Status);
        Assert.Equal(MetadataStatus.NotFound, sm.GetStatus("/m/new").Status);
    }

    [Fact]
    public void LoadSkipsInvalidNamesAndRefusesHugePages()
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("heap"));
        var f = new EntryFactory();
        var id = sm.Apply(f, Mount(f, "/m", "file:///srv")).Mount.MountId;
        Assert.Equal(1UL, sm.Apply(f, Load(f, "/m", id, false, ("ok", false, 1, "f"), ("a/b", false, 1, "f"), ("..", true, 0, "d"), ("", false, 0, "f"))).LoadedCount);
        var huge = Load(f, "/m", id, false);
        for (var i = 0; i <= InputLimits.MaxLoadEntriesPerCommand; i++) huge.LoadMetadata.Entries.Add(new LoadedEntry { Name = $"n{i}", Kind = InodeKind.File });
        Assert.Equal(MetadataStatus.InvalidArgument, sm.Apply(f, huge).Status);
        Assert.Equal(1UL, sm.GetStatus("/m").Value!.ChildCount);
    }

    [Fact]
    public void ReadOnlyMountRefusesNamespaceWrites()
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("heap"));
        var f = new EntryFactory();
        var id = sm.Apply(f, Mount(f, "/ro", "file:///srv", readOnly: true)).Mount.MountId;
        sm.Apply(f, Load(f, "/ro", id, true, ("f", false, 1, "f:1")));
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, f.Mkdir("/ro/d")).Status);
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, f.Create("/ro/g")).Status);
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, f.Delete("/ro/f")).Status);
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, f.Rename("/ro/f", "/ro/h")).Status);
        Assert.Equal(MetadataStatus.Ok, sm.GetStatus("/ro/f").Status);
    }

    [Theory]
    [MemberData(nameof(StoreKinds.All), MemberType = typeof(StoreKinds))]
    public void UnmountRemovesTheSubtreeAndTheMount(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        var f = new EntryFactory();
        var before = sm.Counts.Inodes;
        var id = sm.Apply(f, Mount(f, "/m", "file:///srv")).Mount.MountId;
        sm.Apply(f, Load(f, "/m", id, true, ("d", true, 0, "d"), ("f", false, 1, "f:1")));
        sm.Apply(f, Load(f, "/m/d", id, true, ("g", false, 1, "f:1")));
        Assert.Equal(4UL, sm.Apply(f, f.Entry(e => e.Unmount = new UnmountRequest { Path = "/m" })).DeletedCount);
        Assert.True(sm.Mounts.IsEmpty);
        Assert.Equal(before, sm.Counts.Inodes);
        Assert.Equal(MetadataStatus.NotFound, sm.GetStatus("/m").Status);
        Assert.Equal(0UL, sm.GetStatus("/").Value!.ChildCount);

        // The same path can be mounted again; loads for the old mount id are refused.
        var again = sm.Apply(f, Mount(f, "/m", "file:///srv")).Mount.MountId;
        Assert.NotEqual(id, again);
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, Load(f, "/m", id, true, ("x", false, 1, "f"))).Status);
    }

    [Theory]
    [InlineData("rocks", "heap")]
    [InlineData("heap", "rocks")]
    [InlineData("rocks", "rocks")]
    public void MountTableTravelsInSnapshotsAndTheDigest(string from, string to)
    {
        using var dir = new TempDirectory();
        using var source = MetadataStateMachine.Open(dir.Sub("source"), StoreKinds.Options(from));
        var f = new EntryFactory();
        var empty = source.Digest();
        var id = source.Apply(f, Mount(f, "/m", "file:///srv", properties: ("token", "t"))).Mount.MountId;
        source.Apply(f, Load(f, "/m", id, true, ("f", false, 1, "f:1")));
        Assert.NotEqual(empty, source.Digest());
        var withMount = source.Digest();
        source.CreateSnapshot(dir.Sub("snap"));

        using var target = MetadataStateMachine.Open(dir.Sub("target"), StoreKinds.Options(to));
        target.RestoreFromSnapshot(dir.Sub("snap"));
        Assert.Equal(withMount, target.Digest());
        Assert.Equal("t", target.Mounts.At("/m")!.Properties["token"]);
        Assert.True(target.GetLoadState("/m").Value!.ChildrenLoaded);
        using (var view = target.BeginDigest()) Assert.Equal(withMount, view.Compute().Digest);

        // The mount table alone changes the digest (an update of an option).
        target.Apply(f, f.Entry(e => e.UpdateMount = new UpdateMountRequest { Path = "/m", Options = new MountOptions { ReadOnly = true } }));
        Assert.NotEqual(withMount, target.Digest());
    }

    [Fact]
    public void RocksStoreKeepsTheMountTableAcrossReopen()
    {
        using var dir = new TempDirectory();
        var f = new EntryFactory();
        using (var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("rocks")))
        {
            sm.Apply(f, Mount(f, "/m", "file:///srv"));
        }

        using var reopened = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("rocks"));
        Assert.Equal("file:///srv", reopened.Mounts.At("/m")!.UfsUri);
    }

    [Fact]
    public void DirectoriesCreatedUnderAWritableMountArePersisted()
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("heap"));
        var f = new EntryFactory();
        sm.Apply(f, Mount(f, "/m", "file:///srv"));
        sm.Apply(f, f.Mkdir("/outside"));
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Mkdir("/m/a/b", recursive: true)).Status);
        Assert.True(sm.GetStatus("/m/a").Value!.Persisted);
        Assert.Equal("d", sm.GetStatus("/m/a/b").Value!.UfsFingerprint);
        Assert.False(sm.GetStatus("/outside").Value!.Persisted);
    }

    [Theory]
    [InlineData("aws.secretKey", true)]
    [InlineData("PASSWORD", true)]
    [InlineData("accessKeyId", true)]
    [InlineData("session_token", true)]
    [InlineData("region", false)]
    [InlineData("endpoint", false)]
    public void SecretLookingKeysAreMasked(string key, bool secret) => Assert.Equal(secret, MountTable.LooksSecret(key));
}
