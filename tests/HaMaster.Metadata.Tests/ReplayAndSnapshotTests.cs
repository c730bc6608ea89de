using HaMaster.Chaos.Core.Files;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Tests;

public sealed class ReplayAndSnapshotTests
{
    public static TheoryData<string> Kinds => StoreKinds.All;

    private static List<(ulong, ulong, JournalEntry)> RandomLog(int seed, int count)
    {
        var random = new Random(seed);
        var model = new ReferenceModel();
        var f = new EntryFactory();
        var log = new List<(ulong, ulong, JournalEntry)>();
        for (var i = 0; i < count; i++)
        {
            var entry = ModelBasedTests.RandomEntry(random, f, model);
            model.Apply(entry);
            log.Add(f.Indexed(entry));
        }

        return log;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ReplayingAppliedEntriesChangesNothing(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        var log = RandomLog(7, 400);
        sm.ApplyBatch(log.Take(300).ToList());
        var digest = sm.Digest();
        var replayed = sm.ApplyBatch(log.Take(300).ToList());
        Assert.All(replayed, r => Assert.Equal(MetadataStatus.FailedPrecondition, r.Status));
        Assert.Equal(digest, sm.Digest());
        Assert.Equal(300UL, sm.AppliedIndex);

        // A batch overlapping the applied index applies only the new tail.
        sm.ApplyBatch(log.Skip(250).ToList());
        Assert.Equal(400UL, sm.AppliedIndex);
        using var fresh = MetadataStateMachine.Open(dir.Sub("fresh"), new MetastoreOptions { Kind = MetastoreKind.Heap });
        fresh.ApplyBatch(log);
        Assert.Equal(fresh.Digest(), sm.Digest());

        sm.ApplyNoop(401, 4);
        sm.ApplyNoop(5, 1);
        Assert.Equal((401UL, 4UL), (sm.AppliedIndex, sm.AppliedTerm));
    }

    [Fact]
    public void RocksStateAndAppliedIndexSurviveReopen()
    {
        using var dir = new TempDirectory();
        var log = RandomLog(8, 300);
        string digest;
        using (var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("caching-tiny")))
        {
            sm.ApplyBatch(log.Take(200).ToList());
            digest = sm.Digest();
        }

        using (var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("rocks")))
        {
            Assert.Equal(200UL, sm.AppliedIndex);
            Assert.Equal(3UL, sm.AppliedTerm);
            Assert.Equal(digest, sm.Digest());
            sm.ApplyBatch(log);
            digest = sm.Digest();
        }

        using var heap = MetadataStateMachine.Open(dir.Sub("heap"), new MetastoreOptions { Kind = MetastoreKind.Heap });
        heap.ApplyBatch(log);
        Assert.Equal(digest, heap.Digest());
    }

    public static TheoryData<string, string> Pairs()
    {
        var data = new TheoryData<string, string>();
        foreach (var from in new[] { "rocks", "heap", "caching-tiny" })
        {
            foreach (var to in new[] { "rocks", "heap" })
            {
                data.Add(from, to);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void SnapshotRestoresIdenticalStateAcrossStoreKinds(string from, string to)
    {
        using var dir = new TempDirectory();
        var log = RandomLog(9, 500);
        using var source = MetadataStateMachine.Open(dir.Sub("source"), StoreKinds.Options(from));
        source.ApplyBatch(log.Take(350).ToList());
        var (index, term) = source.CreateSnapshot(dir.Sub("snap"));
        Assert.Equal((350UL, 3UL), (index, term));
        source.ApplyBatch(log.Skip(350).ToList());

        using var target = MetadataStateMachine.Open(dir.Sub("target"), StoreKinds.Options(to));
        target.ApplyBatch(RandomLog(10, 50));
        Assert.Equal((350UL, 3UL), target.RestoreFromSnapshot(dir.Sub("snap")));
        Assert.Equal(350UL, target.AppliedIndex);
        target.ApplyBatch(log);
        Assert.Equal(500UL, target.AppliedIndex);
        Assert.Equal(source.Digest(), target.Digest());
        Assert.Equal(source.ListStatus("/", 1000).Value, target.ListStatus("/", 1000).Value);
        Assert.Equal(source.ListWorkers(), target.ListWorkers());
        Assert.Equal(source.Counts, target.Counts);

        // The snapshot is reusable (restore did not consume or modify it).
        using var again = MetadataStateMachine.Open(dir.Sub("again"), StoreKinds.Options(to));
        again.RestoreFromSnapshot(dir.Sub("snap"));
        Assert.Equal(350UL, again.AppliedIndex);
    }

    [Theory]
    [InlineData("rocks")]
    [InlineData("caching-tiny")]
    [InlineData("heap")]
    public async Task SnapshotTakenWhileApplyingHoldsExactlyThePrefixItNames(string kind)
    {
        // The Raft host snapshots on a pool thread while the loop keeps applying: whatever index the
        // snapshot says it holds, restoring it must give exactly the state after that prefix of the log.
        using var dir = new TempDirectory();
        var log = RandomLog(11, 3000);
        using var source = MetadataStateMachine.Open(dir.Sub("source"), StoreKinds.Options(kind));
        source.ApplyBatch(log.Take(100).ToList());
        var applier = Task.Run(() =>
        {
            for (var next = 100; next < log.Count; next += 10)
            {
                source.ApplyBatch(log.Skip(next).Take(10).ToList());
            }
        });

        var positions = new List<ulong>();
        for (var i = 0; i < 4; i++)
        {
            var (index, term) = source.CreateSnapshot(dir.Sub($"snap-{i}"));
            Assert.True(index >= 100 && index <= (ulong)log.Count, $"snapshot {i} names index {index}");
            Assert.Equal(log[(int)index - 1].Item2, term);
            positions.Add(index);
        }

        await applier;
        Assert.True(positions.SequenceEqual(positions.Order()), $"snapshot indexes went backwards: {string.Join(",", positions)}");
        for (var i = 0; i < positions.Count; i++)
        {
            using var restored = MetadataStateMachine.Open(dir.Sub($"restored-{i}"), StoreKinds.Options("rocks"));
            Assert.Equal((positions[i], log[(int)positions[i] - 1].Item2), restored.RestoreFromSnapshot(dir.Sub($"snap-{i}")));
            using var replayed = MetadataStateMachine.Open(dir.Sub($"replayed-{i}"), new MetastoreOptions { Kind = MetastoreKind.Heap });
            replayed.ApplyBatch(log.Take((int)positions[i]).ToList());
            Assert.Equal(replayed.Digest(), restored.Digest());
        }
    }

    [Fact]
    public async Task RestoreWaitsForASnapshotInProgressAndDisposeForBoth()
    {
        // A follower may install the leader's snapshot while writing its own: the store must not be
        // swapped (and disposed) under a running checkpoint.
        using var dir = new TempDirectory();
        var log = RandomLog(12, 2000);
        using (var leader = MetadataStateMachine.Open(dir.Sub("leader"), StoreKinds.Options("rocks")))
        {
            leader.ApplyBatch(log);
            leader.CreateSnapshot(dir.Sub("from-leader"));
        }

        using var follower = MetadataStateMachine.Open(dir.Sub("follower"), StoreKinds.Options("rocks"));
        follower.ApplyBatch(log.Take(1000).ToList());
        var own = Task.Run(() => follower.CreateSnapshot(dir.Sub("own")));
        var restore = Task.Run(() => follower.RestoreFromSnapshot(dir.Sub("from-leader")));
        var ownAt = await own;
        Assert.Equal((2000UL, log[^1].Item2), await restore);
        Assert.True(ownAt.Index is 1000 or 2000, $"own snapshot at {ownAt.Index}");
        using var check = MetadataStateMachine.Open(dir.Sub("check"), StoreKinds.Options("heap"));
        Assert.Equal(ownAt, check.RestoreFromSnapshot(dir.Sub("own")));
        Assert.Equal(2000UL, follower.AppliedIndex);
    }

    [Fact]
    public void RestoredRocksStateSurvivesReopenAndSessionsTravel()
    {
        using var dir = new TempDirectory();
        var f = new EntryFactory();
        var session = new ClientSession { ClientId = "c", Sequence = 1 };
        var allocate = f.Entry(e => e.AllocateBlock = new() { Path = "/f" }, session);
        using (var source = MetadataStateMachine.Open(dir.Sub("source"), new MetastoreOptions { Kind = MetastoreKind.Heap }))
        {
            source.Apply(f, f.Create("/f"));
            Assert.Equal(1UL, source.Apply(f, allocate).BlockId);
            source.CreateSnapshot(dir.Sub("snap"));
        }

        using (var target = MetadataStateMachine.Open(dir.Sub("target"), StoreKinds.Options("rocks")))
        {
            target.Apply(f, f.Mkdir("/old"));
            target.RestoreFromSnapshot(dir.Sub("snap"));
        }

        using var reopened = MetadataStateMachine.Open(dir.Sub("target"), StoreKinds.Options("rocks"));
        Assert.Equal(MetadataStatus.NotFound, reopened.GetStatus("/old").Status);
        Assert.Equal(2UL, reopened.AppliedIndex);
        var retried = reopened.ApplyBatch([(10, 4, allocate.Clone())])[0];
        Assert.Equal(1UL, retried.BlockId);
        Assert.Single(reopened.GetStatus("/f").Value!.BlockIds);
        Assert.Single(Directory.GetDirectories(dir.Sub("target")));
    }
}
