using HaMaster.Chaos.Core.Files;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Tests;

/// <summary>TTL actions: the expiry index kept by apply, and the ExpireTtl command.</summary>
public sealed class TtlTests
{
    public static TheoryData<string> Kinds => StoreKinds.All;

    private const long Everything = long.MaxValue;

    private static JournalEntry CreateWithTtl(EntryFactory f, string path, long ttlMs, TtlAction action = TtlAction.Delete, bool recursive = false) =>
        f.Entry(e => e.CreateFile = new() { Path = path, TtlMs = ttlMs, TtlAction = action, Recursive = recursive });

    private static JournalEntry MkdirWithTtl(EntryFactory f, string path, long ttlMs, TtlAction action = TtlAction.Delete) =>
        f.Entry(e => e.CreateDirectory = new() { Path = path, TtlMs = ttlMs, TtlAction = action });

    private static JournalEntry SetTtl(EntryFactory f, string path, long? ttlMs, TtlAction? action = null, bool recursive = false) => f.Entry(e =>
    {
        e.SetAttribute = new() { Path = path, Recursive = recursive };
        if (ttlMs is { } t) e.SetAttribute.TtlMs = t;
        if (action is { } a) e.SetAttribute.TtlAction = a;
    });

    /// <summary>An ExpireTtl entry proposed at <paramref name="timeMs"/> for what the index says is due then.</summary>
    private static JournalEntry Expire(EntryFactory f, MetadataStateMachine sm, long timeMs, int max = 1000)
    {
        var command = new ExpireTtlCommand();
        foreach (var due in sm.ListDueTtl(timeMs, max))
        {
            command.Inodes.Add(new ExpiringInode { InodeId = due.InodeId, ExpiryMs = due.ExpiryMs });
        }

        return ExpireExactly(f, timeMs, command);
    }

    private static JournalEntry ExpireExactly(EntryFactory f, long timeMs, ExpireTtlCommand command)
    {
        var saved = f.TimeMs;
        f.TimeMs = timeMs;
        var entry = f.Entry(e => { e.ExpireTtl = command; e.Caller = new Caller { User = "hamaster-master" }; });
        f.TimeMs = Math.Max(saved, timeMs + 1);
        return entry;
    }

    private static Protos.V1.FileInfo Stat(MetadataStateMachine sm, string path) => sm.GetStatus(path).Value ?? throw new InvalidOperationException($"{path} missing");

    [Theory]
    [MemberData(nameof(Kinds))]
    public void The_index_follows_create_set_rename_recursive_set_and_delete(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        var f = new EntryFactory();

        var created = sm.Apply(f, CreateWithTtl(f, "/f", 5000)).FileInfo;
        Assert.Equal((5000L, TtlAction.Delete), (created.TtlMs, created.TtlAction));
        var expiry = created.CreationTimeMs + 5000;
        Assert.Equal(1L, sm.TtlIndexCount);
        Assert.Empty(sm.ListDueTtl(expiry - 1, 1000));
        Assert.Equal([new TtlDue(created.Id, expiry)], sm.ListDueTtl(expiry, 1000));

        // Rename keeps the inode and its creation time: same entry.
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Rename("/f", "/g")).Status);
        Assert.Equal([new TtlDue(created.Id, expiry)], sm.ListDueTtl(Everything, 1000));

        // A new ttl moves the entry; ttl 0 removes it; the action alone does not touch it.
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, SetTtl(f, "/g", 9000)).Status);
        Assert.Equal([new TtlDue(created.Id, created.CreationTimeMs + 9000)], sm.ListDueTtl(Everything, 1000));
        Assert.Equal(TtlAction.Free, sm.Apply(f, SetTtl(f, "/g", null, TtlAction.Free)).FileInfo.TtlAction);
        Assert.Equal(1L, sm.TtlIndexCount);
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, SetTtl(f, "/g", 0)).Status);
        Assert.Equal(0L, sm.TtlIndexCount);

        // A directory created with a ttl, then a recursive set over its subtree.
        var d = sm.Apply(f, MkdirWithTtl(f, "/d", 3000, TtlAction.Free)).FileInfo;
        Assert.Equal((3000L, TtlAction.Free), (d.TtlMs, d.TtlAction));
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Mkdir("/d/e")).Status);
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Create("/d/e/a")).Status);
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Create("/d/b")).Status);
        Assert.Equal(1L, sm.TtlIndexCount);
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, SetTtl(f, "/d", 2000, TtlAction.Delete, recursive: true)).Status);
        Assert.Equal(4L, sm.TtlIndexCount);
        var ids = new[] { "/d", "/d/e", "/d/e/a", "/d/b" }.Select(p => Stat(sm, p)).Select(i => new TtlDue(i.Id, i.CreationTimeMs + 2000)).OrderBy(x => x.InodeId);
        Assert.Equal(ids, sm.ListDueTtl(Everything, 1000).OrderBy(x => x.InodeId));

        // Deleting a subtree removes every entry in it.
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, SetTtl(f, "/g", 1)).Status);
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Delete("/d", recursive: true)).Status);
        Assert.Equal([new TtlDue(created.Id, created.CreationTimeMs + 1)], sm.ListDueTtl(Everything, 1000));
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Delete("/g")).Status);
        Assert.Equal(0L, sm.TtlIndexCount);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Expiry_deletes_a_due_file_once_and_a_replayed_command_changes_nothing(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        var f = new EntryFactory();
        var file = sm.Apply(f, CreateWithTtl(f, "/a/f", 1000, recursive: true)).FileInfo;
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Create("/a/keep")).Status);
        var expiry = file.CreationTimeMs + 1000;

        var entry = Expire(f, sm, expiry);
        Assert.Single(entry.ExpireTtl.Inodes);
        var result = sm.Apply(f, entry);
        Assert.Equal(MetadataStatus.Ok, result.Status);
        Assert.Equal(new TtlExpiryResult { Deleted = 1, RemovedInodes = 1 }, result.TtlExpiry);
        Assert.Equal(MetadataStatus.NotFound, sm.GetStatus("/a/f").Status);
        Assert.Equal(1UL, Stat(sm, "/a").ChildCount);
        Assert.Equal(expiry, Stat(sm, "/a").ModificationTimeMs);
        Assert.Equal(0L, sm.TtlIndexCount);
        var digest = sm.Digest();

        // The same command again (a new leader re-proposing what the old one already committed).
        var again = sm.Apply(f, ExpireExactly(f, expiry + 50, entry.ExpireTtl.Clone()));
        Assert.Equal(new TtlExpiryResult { Skipped = 1 }, again.TtlExpiry);
        Assert.Equal(digest, sm.Digest());

        // Replaying the applied entry itself (after a crash) is skipped by index as well.
        Assert.Equal(4UL, sm.AppliedIndex);
        var replay = sm.ApplyBatch([(3UL, 3UL, entry)]);
        Assert.Equal(MetadataStatus.FailedPrecondition, replay[0].Status);
        Assert.Equal(digest, sm.Digest());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_ttl_changed_or_not_yet_due_at_the_entry_time_is_not_acted_on(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        var f = new EntryFactory();
        var file = sm.Apply(f, CreateWithTtl(f, "/f", 1000)).FileInfo;
        var expiry = file.CreationTimeMs + 1000;
        var stale = Expire(f, sm, expiry);
        Assert.Single(stale.ExpireTtl.Inodes);

        // The ttl is extended between the checker's read and the entry's apply.
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, SetTtl(f, "/f", 60_000)).Status);
        var result = sm.Apply(f, ExpireExactly(f, expiry + 100, stale.ExpireTtl));
        Assert.Equal(new TtlExpiryResult { Skipped = 1 }, result.TtlExpiry);
        Assert.Equal(60_000L, Stat(sm, "/f").TtlMs);
        Assert.Equal([new TtlDue(file.Id, file.CreationTimeMs + 60_000)], sm.ListDueTtl(Everything, 10));

        // An entry whose own time is before the expiry does not act either (apply trusts no clock but the entry's).
        var early = new ExpireTtlCommand { Inodes = { new ExpiringInode { InodeId = file.Id, ExpiryMs = file.CreationTimeMs + 60_000 } } };
        Assert.Equal(new TtlExpiryResult { Skipped = 1 }, sm.Apply(f, ExpireExactly(f, file.CreationTimeMs + 59_999, early)).TtlExpiry);
        Assert.Equal(MetadataStatus.Ok, sm.GetStatus("/f").Status);

        // Cleared ttl: skipped too. Unknown inode: skipped.
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, SetTtl(f, "/f", 0)).Status);
        early.Inodes.Add(new ExpiringInode { InodeId = 999, ExpiryMs = 1 });
        Assert.Equal(new TtlExpiryResult { Skipped = 2 }, sm.Apply(f, ExpireExactly(f, file.CreationTimeMs + 70_000, early)).TtlExpiry);
        Assert.Equal(MetadataStatus.Ok, sm.GetStatus("/f").Status);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Free_forgets_the_blocks_keeps_the_inode_and_clears_the_ttl(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        var f = new EntryFactory();
        var file = sm.Apply(f, CreateWithTtl(f, "/f", 1000, TtlAction.Free)).FileInfo;
        var b1 = sm.Apply(f, f.Allocate("/f")).BlockId;
        var b2 = sm.Apply(f, f.Allocate("/f")).BlockId;
        var worker = sm.Apply(f, f.Register("w1:1")).WorkerId;
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Commit(worker, b1, 1024)).Status);
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Commit(worker, b2, 100)).Status);
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Complete("/f", 1124)).Status);
        // A file still being written and a pinned file keep their blocks (their ttl is cleared all the same).
        var b4 = sm.Apply(f, f.Entry(e => e.CreateFile = new() { Path = "/pinned" })).FileInfo;
        var pinnedBlock = sm.Apply(f, f.Allocate("/pinned")).BlockId;
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Complete("/pinned", 1)).Status);
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Entry(e => e.SetAttribute = new() { Path = "/pinned", Pinned = true, TtlMs = 1, TtlAction = TtlAction.Free })).Status);
        var other = sm.Apply(f, CreateWithTtl(f, "/open", 1000, TtlAction.Free)).FileInfo;
        var b3 = sm.Apply(f, f.Allocate("/open")).BlockId;
        Assert.Equal(2UL, sm.GetWorker(worker)!.BlockCount);

        var result = sm.Apply(f, Expire(f, sm, other.CreationTimeMs + 1000));
        Assert.Equal(new TtlExpiryResult { Freed = 3, FreedBlocks = 2 }, result.TtlExpiry);
        Assert.Equal([pinnedBlock], Stat(sm, "/pinned").BlockIds);
        Assert.Equal(0L, Stat(sm, "/pinned").TtlMs);
        Assert.Equal(b4.Id, Stat(sm, "/pinned").Id);
        var freed = Stat(sm, "/f");
        Assert.Equal((1124UL, true, 0L, TtlAction.Delete), (freed.Length, freed.Completed, freed.TtlMs, freed.TtlAction));
        Assert.Empty(freed.BlockIds);
        Assert.Equal(MetadataStatus.NotFound, sm.GetBlockInfo(b1).Status);
        Assert.Equal(MetadataStatus.NotFound, sm.GetBlockInfo(b2).Status);
        Assert.Equal(0UL, sm.GetWorker(worker)!.BlockCount);
        Assert.Equal([b3], Stat(sm, "/open").BlockIds);
        Assert.Equal(MetadataStatus.Ok, sm.GetBlockInfo(b3).Status);
        Assert.Equal(new MetadataCounts(4, 2, 1), sm.Counts);
        Assert.Equal(0L, sm.TtlIndexCount);
        Assert.Equal(file.Id, freed.Id);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_directory_ttl_covers_its_subtree(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        var f = new EntryFactory();
        var d = sm.Apply(f, MkdirWithTtl(f, "/d", 1000)).FileInfo;
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Mkdir("/d/e/g", recursive: true)).Status);
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, CreateWithTtl(f, "/d/e/long", 3_600_000)).Status);
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Create("/d/e/g/x")).Status);
        var block = sm.Apply(f, f.Allocate("/d/e/g/x")).BlockId;
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Create("/kept")).Status);
        Assert.Equal(2L, sm.TtlIndexCount);

        // Only the directory is due; its expiry takes the whole subtree, including an entry not due yet.
        var entry = Expire(f, sm, d.CreationTimeMs + 1000);
        Assert.Equal([d.Id], entry.ExpireTtl.Inodes.Select(i => i.InodeId));
        var result = sm.Apply(f, entry);
        Assert.Equal(new TtlExpiryResult { Deleted = 1, RemovedInodes = 5 }, result.TtlExpiry);
        Assert.Equal(MetadataStatus.NotFound, sm.GetStatus("/d").Status);
        Assert.Equal(MetadataStatus.NotFound, sm.GetBlockInfo(block).Status);
        Assert.Equal(new MetadataCounts(2, 0, 0), sm.Counts);
        Assert.Equal(0L, sm.TtlIndexCount);
        Assert.Equal(1UL, Stat(sm, "/").ChildCount);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Free_on_a_directory_frees_every_file_below_it(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        var f = new EntryFactory();
        var d = sm.Apply(f, MkdirWithTtl(f, "/d", 1000, TtlAction.Free)).FileInfo;
        foreach (var p in new[] { "/d/a", "/d/b" })
        {
            Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Create(p)).Status);
            Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Allocate(p)).Status);
            Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Complete(p, 10)).Status);
        }

        var result = sm.Apply(f, Expire(f, sm, d.CreationTimeMs + 5000));
        Assert.Equal(new TtlExpiryResult { Freed = 1, FreedBlocks = 2 }, result.TtlExpiry);
        Assert.Equal(new MetadataCounts(4, 0, 0), sm.Counts);
        Assert.Equal(0L, Stat(sm, "/d").TtlMs);
        Assert.Empty(Stat(sm, "/d/a").BlockIds);
        Assert.Equal(10UL, Stat(sm, "/d/b").Length);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Listing_due_inodes_examines_at_most_the_bound(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        var f = new EntryFactory();
        var batch = new List<(ulong, ulong, JournalEntry)>();
        for (var i = 0; i < 2500; i++)
        {
            batch.Add(f.Indexed(CreateWithTtl(f, $"/f{i}", 1000)));
        }

        sm.ApplyBatch(batch);
        var now = f.TimeMs + 1000;
        var first = sm.ListDueTtl(now, 1000);
        Assert.Equal(1000, first.Count);
        // Bucket order: the earliest expiries come first.
        Assert.Equal(first.OrderBy(d => d.ExpiryMs / 1000).ThenBy(d => d.InodeId), first);

        var rounds = 0;
        while (sm.TtlIndexCount > 0 && rounds < 10)
        {
            var result = sm.Apply(f, Expire(f, sm, now, 1000));
            Assert.True(result.TtlExpiry.Deleted <= 1000);
            rounds++;
        }

        Assert.Equal(3, rounds);
        Assert.Equal(new MetadataCounts(1, 0, 0), sm.Counts);
    }

    [Theory]
    [MemberData(nameof(ReplayAndSnapshotTests.Pairs), MemberType = typeof(ReplayAndSnapshotTests))]
    public void The_index_travels_in_snapshots_and_equals_the_one_derived_from_the_inodes(string from, string to)
    {
        using var dir = new TempDirectory();
        using var source = MetadataStateMachine.Open(dir.Sub("source"), StoreKinds.Options(from));
        var f = new EntryFactory();
        for (var i = 0; i < 40; i++)
        {
            sm(source, f, i % 3 == 0 ? MkdirWithTtl(f, $"/d{i}", 1000 * i) : CreateWithTtl(f, $"/f{i}", 500 * i, TtlAction.Free));
        }

        sm(source, f, SetTtl(f, "/f1", 0));
        sm(source, f, f.Delete("/f2"));
        sm(source, f, f.Rename("/f4", "/d3/f4"));
        source.CreateSnapshot(dir.Sub("snap"));

        using var target = MetadataStateMachine.Open(dir.Sub("target"), StoreKinds.Options(to));
        target.RestoreFromSnapshot(dir.Sub("snap"));
        Assert.Equal(source.ListDueTtl(Everything, 1000), target.ListDueTtl(Everything, 1000));
        Assert.Equal(37L, target.TtlIndexCount);

        // A heap restore derives the index from the inodes alone: it must equal the one apply kept.
        using var derived = MetadataStateMachine.Open(dir.Sub("derived"), StoreKinds.Options("heap"));
        derived.RestoreFromSnapshot(dir.Sub("snap"));
        Assert.Equal(source.ListDueTtl(Everything, 1000), derived.ListDueTtl(Everything, 1000));

        static void sm(MetadataStateMachine m, EntryFactory f, JournalEntry e) => Assert.Equal(MetadataStatus.Ok, m.Apply(f, e).Status);
    }

    [Fact]
    public void Unknown_ttl_actions_are_refused_and_change_nothing()
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("heap"));
        var f = new EntryFactory();
        var bad = sm.Apply(f, CreateWithTtl(f, "/f", 10, (TtlAction)7));
        Assert.Equal((MetadataStatus.InvalidArgument, "ttl_action 7 is not a known action (0 delete, 1 free)"), (bad.Status, bad.Message));
        Assert.Equal(MetadataStatus.NotFound, sm.GetStatus("/f").Status);
        Assert.Equal(MetadataStatus.InvalidArgument, sm.Apply(f, MkdirWithTtl(f, "/d", -1)).Status);
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Create("/g")).Status);
        Assert.Equal(MetadataStatus.InvalidArgument, sm.Apply(f, SetTtl(f, "/g", 5, (TtlAction)2)).Status);
        Assert.Equal(0L, Stat(sm, "/g").TtlMs);
        Assert.Equal(0L, sm.TtlIndexCount);
    }

    [Fact]
    public void A_root_ttl_never_deletes_the_root_and_is_cleared()
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("rocks"));
        var f = new EntryFactory();
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Create("/f")).Status);
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, SetTtl(f, "/", 1)).Status);
        var result = sm.Apply(f, Expire(f, sm, f.TimeMs + 10));
        Assert.Equal(new TtlExpiryResult { Skipped = 1 }, result.TtlExpiry);
        Assert.Equal(MetadataStatus.Ok, sm.GetStatus("/f").Status);
        Assert.Equal(0L, sm.TtlIndexCount);
    }

    [Theory]
    [InlineData("rocks")]
    [InlineData("heap")]
    public void Stores_and_snapshots_from_before_the_index_get_it_built_from_their_inodes(string kind)
    {
        // The RocksDB 7.8 fixture was written before ttl actions: one file there has a one-day ttl.
        using var dir = new TempDirectory();
        var archive = kind == "rocks" ? Fixtures.Rocks78Fixture.DataArchive : Fixtures.Rocks78Fixture.SnapshotArchive;
        Fixtures.Rocks78Fixture.Unpack(Path.Combine(Fixtures.Rocks78Fixture.FixtureDirectory, archive), dir.Sub("old"));
        if (kind == "rocks")
        {
            using var opened = MetadataStateMachine.Open(dir.Sub("old"), StoreKinds.Options(kind));
            Check(opened);
        }
        else
        {
            using var restored = MetadataStateMachine.Open(dir.Sub("sm"), StoreKinds.Options(kind));
            restored.RestoreFromSnapshot(dir.Sub("old"));
            Check(restored);
        }

        static void Check(MetadataStateMachine m)
        {
            var file = m.GetStatus("/proj-7/sub-4/file-5.dat").Value!;
            Assert.Equal(86_400_000L, file.TtlMs);
            Assert.Equal([new TtlDue(file.Id, file.CreationTimeMs + 86_400_000)], m.ListDueTtl(Everything, 100));
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Delete_follows_the_mount_rules_a_mount_point_inside_or_a_read_only_mount_around_keeps_the_subtree(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        var f = new EntryFactory();
        var holder = sm.Apply(f, MkdirWithTtl(f, "/holder", 1000)).FileInfo;
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Entry(e => e.Mount = new MountRequest { Path = "/holder/m", UfsUri = "file:///srv/a", Options = new() })).Status);
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Entry(e => e.Mount = new MountRequest { Path = "/ro", UfsUri = "file:///srv/b", Options = new() { ReadOnly = true } })).Status);
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, SetTtl(f, "/ro", 1)).Status);
        var plain = sm.Apply(f, CreateWithTtl(f, "/plain", 1000)).FileInfo;

        var result = sm.Apply(f, Expire(f, sm, plain.CreationTimeMs + 1000));
        Assert.Equal(new TtlExpiryResult { Deleted = 1, Skipped = 2, RemovedInodes = 1 }, result.TtlExpiry);
        Assert.True(sm.GetStatus("/holder/m").Value!.MountPoint);
        Assert.Equal(0L, Stat(sm, "/holder").TtlMs);
        Assert.Equal(0L, Stat(sm, "/ro").TtlMs);
        Assert.Equal(MetadataStatus.NotFound, sm.GetStatus("/plain").Status);
        Assert.Equal(0L, sm.TtlIndexCount);
        Assert.Equal(holder.Id, Stat(sm, "/holder").Id);
    }
}
