using HaMaster.Chaos.Core.Files;
namespace HaMaster.Rocks.Tests;

public class CheckpointTests
{
    [Fact]
    public void Checkpoint_reopens_with_exactly_the_data_at_checkpoint_time()
    {
        using var dir = new TempDirectory();
        var checkpoint = dir.Sub("snapshots/cp-1");
        using (var db = RocksDb.Open(dir.Sub("db"), B.Small, ["inodes"]))
        {
            var inodes = db.GetColumnFamily("inodes");
            for (var i = 0; i < 500; i++)
            {
                db.Put(B.U($"k{i:D4}"), B.U("before"), inodes);
            }

            db.Flush();
            db.Put(B.U("memtable-only"), B.U("before"), inodes); // checkpoint must include unflushed data
            db.CreateCheckpoint(checkpoint);
            db.Put(B.U("k0001"), B.U("after"), inodes);
            db.Put(B.U("later"), B.U("after"), inodes);
            db.Delete(B.U("k0002"), inodes);
            Assert.Equal("after", B.S(db.Get(B.U("k0001"), inodes)));
        }

        Assert.Contains("inodes", RocksDb.ListColumnFamilies(checkpoint));
        using var restored = RocksDb.Open(checkpoint, B.Small with { CreateIfMissing = false });
        var cf = restored.GetColumnFamily("inodes");
        Assert.Equal("before", B.S(restored.Get(B.U("k0001"), cf)));
        Assert.Equal("before", B.S(restored.Get(B.U("k0002"), cf)));
        Assert.Equal("before", B.S(restored.Get(B.U("memtable-only"), cf)));
        Assert.Null(restored.Get(B.U("later"), cf));
        using var it = restored.NewIterator(cf);
        it.SeekToFirst();
        Assert.Equal(501, B.Keys(it).Count);
    }

    [Fact]
    public void Checkpoint_without_flush_carries_the_write_ahead_log()
    {
        using var dir = new TempDirectory();
        var checkpoint = dir.Sub("cp-wal");
        using (var db = RocksDb.Open(dir.Sub("db"), B.Small, ["inodes"]))
        {
            var inodes = db.GetColumnFamily("inodes");
            for (var i = 0; i < 200; i++)
            {
                db.Put(B.U($"k{i:D4}"), B.U("in-wal"), inodes);
            }

            // Nothing flushed: with a WAL below the threshold the checkpoint copies the WAL
            // instead of flushing, and must still hold every write.
            db.CreateCheckpoint(checkpoint, walBytesWithoutFlush: 64UL << 20);
            db.Put(B.U("later"), B.U("after"), inodes);
        }

        Assert.DoesNotContain(Directory.EnumerateFiles(checkpoint), f => f.EndsWith(".sst", StringComparison.Ordinal)); // not flushed
        Assert.Contains(Directory.EnumerateFiles(checkpoint), f => f.EndsWith(".log", StringComparison.Ordinal));
        using var restored = RocksDb.Open(checkpoint, B.Small with { CreateIfMissing = false });
        var cf = restored.GetColumnFamily("inodes");
        Assert.Equal("in-wal", B.S(restored.Get(B.U("k0199"), cf)));
        Assert.Null(restored.Get(B.U("later"), cf));
        using var it = restored.NewIterator(cf);
        it.SeekToFirst();
        Assert.Equal(200, B.Keys(it).Count);
    }

    [Fact]
    public void Checkpoint_into_an_existing_directory_is_refused()
    {
        using var dir = new TempDirectory();
        using var db = RocksDb.Open(dir.Sub("db"), B.Small);
        Directory.CreateDirectory(dir.Sub("exists"));
        var e = Assert.Throws<RocksDbException>(() => db.CreateCheckpoint(dir.Sub("exists")));
        Assert.Equal(RocksErrorKind.InvalidArgument, e.Kind);
        Assert.Equal("checkpoint", e.Operation);
    }

    [Fact]
    public void Opening_a_missing_checkpoint_is_a_clear_error()
    {
        using var dir = new TempDirectory();
        var missing = dir.Sub("no-such-checkpoint");
        var e = Assert.Throws<RocksDbException>(() => RocksDb.Open(missing, B.Small with { CreateIfMissing = false }));
        Assert.Equal(RocksErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("does not exist", e.Message);
        Assert.Contains(missing, e.Message);
        Assert.Throws<RocksDbException>(() => RocksDb.ListColumnFamilies(missing));
    }
}
