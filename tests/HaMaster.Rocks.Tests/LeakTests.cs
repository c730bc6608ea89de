using HaMaster.Chaos.Core.Files;
using HaMaster.Rocks.Lifetime;

namespace HaMaster.Rocks.Tests;

public class LeakTests
{
    [Fact]
    public void Open_close_iterate_snapshot_and_batch_loops_free_every_native_object()
    {
        using var dir = new TempDirectory();
        var baseline = NativeLifetime.LiveCount;
        for (var round = 0; round < 200; round++)
        {
            using var db = RocksDb.Open(dir.Sub("db"), B.Small, ["a", "b"]);
            Assert.True(NativeLifetime.LiveCount > baseline);
            db.Put(B.U($"k{round}"), B.U("v"), db.GetColumnFamily("a"));
            using var snapshot = db.CreateSnapshot();
            for (var i = 0; i < 20; i++)
            {
                using var it = db.NewIterator(db.GetColumnFamily("a"), snapshot, B.U("k"), B.U("l"));
                it.SeekToFirst();
                Assert.Equal(round + 1, B.Keys(it).Count);
                using var batch = new WriteBatch();
                batch.Put(B.U("x"), B.U("y"), db.GetColumnFamily("b"));
                db.Write(batch);
                _ = db.Get(B.U("x"), db.GetColumnFamily("b"), snapshot);
            }

            // Not disposed by the caller: the database disposes it.
            var leaked = db.NewIterator();
            leaked.SeekToFirst();
        }

        Assert.Equal(baseline, NativeLifetime.LiveCount);
    }

    [Fact]
    public void Objects_never_disposed_are_freed_by_finalizers_children_first()
    {
        // Iterators hold pointers into their database, read options (bounds) and snapshot; when all
        // of them become garbage at once, finalization must still free the iterator first.
        using var dir = new TempDirectory();
        var baseline = NativeLifetime.LiveCount;
        for (var round = 0; round < 20; round++)
        {
            Abandon(dir.Sub($"db{round}"));
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.Equal(baseline, NativeLifetime.LiveCount);
        using var reopened = RocksDb.Open(dir.Sub("db19"), B.Small); // closed, so no LOCK held
        Assert.Equal("v", B.S(reopened.Get(B.U("k"))));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Abandon(string path)
    {
        var db = RocksDb.Open(path, B.Small);
        db.Put(B.U("k"), B.U("v"));
        var snapshot = db.CreateSnapshot();
        var it = db.NewIterator(snapshot: snapshot, lowerBound: B.U("a"), upperBound: B.U("z"));
        it.SeekToFirst();
        Assert.True(it.Valid);
        var batch = new WriteBatch();
        batch.Put(B.U("x"), B.U("y"));
    }
}
