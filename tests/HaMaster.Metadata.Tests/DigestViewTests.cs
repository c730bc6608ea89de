using HaMaster.Chaos.Core.Files;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Tests;

/// <summary>
/// Issue 17: the digest served on the web port is computed from a pinned view, off the apply path:
/// it equals <see cref="MetadataStateMachine.Digest"/> at the view's applied index, whatever was
/// applied after the view was taken, for every store kind.
/// </summary>
public sealed class DigestViewTests
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
    public void A_view_hashes_the_state_at_its_applied_index_while_later_batches_apply(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        var log = RandomLog(17, 400);
        sm.ApplyBatch(log.Take(200).ToList());
        var at200 = sm.Digest();

        using var view = sm.BeginDigest();
        Assert.Equal(200UL, view.AppliedIndex);

        // Applying goes on while the view is held (the Rocks view does not hold the apply gate).
        sm.ApplyBatch(log.Skip(200).ToList());
        Assert.Equal(400UL, sm.AppliedIndex);
        var at400 = sm.Digest();
        Assert.NotEqual(at200, at400);

        var (index, digest) = view.Compute();
        if (kind == "heap")
        {
            // No snapshots in the heap store: the view hashes the live state and says which index that is.
            Assert.Equal((400UL, at400), (index, digest));
        }
        else
        {
            Assert.Equal((200UL, at200), (index, digest));
        }

        // A fresh view after the last batch agrees with the live digest, and with a heap replica's.
        using var fresh = sm.BeginDigest();
        Assert.Equal((400UL, at400), fresh.Compute());
        using var heap = MetadataStateMachine.Open(dir.Sub("heap"), new MetastoreOptions { Kind = MetastoreKind.Heap });
        heap.ApplyBatch(log);
        Assert.Equal(at400, heap.Digest());
    }

    [Fact]
    public void A_rocks_view_is_computed_concurrently_with_applying()
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("rocks"));
        var log = RandomLog(18, 600);
        sm.ApplyBatch(log.Take(300).ToList());
        var expected = sm.Digest();
        using var view = sm.BeginDigest();
        var hashing = Task.Run(view.Compute);
        foreach (var entry in log.Skip(300)) sm.ApplyBatch([entry]);
        Assert.Equal((300UL, expected), hashing.GetAwaiter().GetResult());
        Assert.Equal(600UL, sm.AppliedIndex);
    }
}
