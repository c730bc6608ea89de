using HaMaster.Chaos.Core.Files;
namespace HaMaster.Rocks.Tests;

public class BatchTests
{
    [Fact]
    public void Batch_applies_across_column_families_only_when_written()
    {
        using var dir = new TempDirectory();
        var path = dir.Sub("db");
        using (var db = RocksDb.Open(path, B.Small, ["inodes", "meta"]))
        {
            var inodes = db.GetColumnFamily("inodes");
            var meta = db.GetColumnFamily("meta");
            db.Put(B.U("old"), B.U("x"), inodes);
            db.Put(B.U("r1"), B.U("x"), inodes);
            db.Put(B.U("r2"), B.U("x"), inodes);
            using var batch = new WriteBatch();
            batch.Put(B.U("i1"), B.U("inode"), inodes);
            batch.Put(B.U("applied"), B.U("42"), meta);
            batch.Put(B.U("d"), B.U("default"));
            batch.Delete(B.U("old"), inodes);
            batch.DeleteRange(B.U("r"), B.U("s"), inodes);
            Assert.Equal(5, batch.Count);
            Assert.Null(db.Get(B.U("i1"), inodes));
            Assert.Equal("x", B.S(db.Get(B.U("old"), inodes)));

            db.Write(batch, sync: true);
            Assert.Equal("inode", B.S(db.Get(B.U("i1"), inodes)));
            Assert.Equal("42", B.S(db.Get(B.U("applied"), meta)));
            Assert.Equal("default", B.S(db.Get(B.U("d"))));
            Assert.Null(db.Get(B.U("old"), inodes));
            Assert.Null(db.Get(B.U("r1"), inodes));

            batch.Clear();
            Assert.Equal(0, batch.Count);
            batch.Put(B.U("again"), B.U("1"), meta);
            batch.Delete(B.U("d"));
            db.Write(batch);
        }

        using var reopened = RocksDb.Open(path, B.Small);
        Assert.Equal("42", B.S(reopened.Get(B.U("applied"), reopened.GetColumnFamily("meta"))));
        Assert.Equal("1", B.S(reopened.Get(B.U("again"), reopened.GetColumnFamily("meta"))));
        Assert.Null(reopened.Get(B.U("d")));
    }

    [Fact]
    public void A_batch_mixing_databases_is_refused_before_anything_is_applied()
    {
        using var dir = new TempDirectory();
        using var source = RocksDb.Open(dir.Sub("a"), B.Small, ["x", "y", "z"]);
        using var target = RocksDb.Open(dir.Sub("b"), B.Small, ["x"]);
        using var batch = new WriteBatch();
        batch.Put(B.U("first"), B.U("1"));
        batch.Put(B.U("second"), B.U("2"), source.GetColumnFamily("z"));
        Assert.Throws<ArgumentException>(() => target.Write(batch));
        Assert.Throws<ArgumentException>(() => batch.Put(B.U("third"), B.U("3"), target.GetColumnFamily("x")));
        Assert.Null(target.Get(B.U("first")));
        batch.Clear();
        batch.Put(B.U("third"), B.U("3"), target.GetColumnFamily("x"));
        target.Write(batch);
        Assert.Equal("3", B.S(target.Get(B.U("third"), target.GetColumnFamily("x"))));
    }

    [Fact]
    public async Task Readers_never_observe_half_of_a_batch()
    {
        using var dir = new TempDirectory();
        using var db = RocksDb.Open(dir.Sub("db"), B.Small, ["left", "right"]);
        var left = db.GetColumnFamily("left");
        var right = db.GetColumnFamily("right");
        const int rounds = 3000;
        var writer = Task.Run(() =>
        {
            using var batch = new WriteBatch();
            for (var i = 1; i <= rounds; i++)
            {
                batch.Clear();
                batch.Put(B.U("counter"), BitConverter.GetBytes(i), left);
                batch.Put(B.U("counter"), BitConverter.GetBytes(i), right);
                batch.Put(B.U("counter"), BitConverter.GetBytes(i));
                db.Write(batch);
            }
        });
        var observed = 0;
        var last = 0;
        while (last < rounds && observed < 1_000_000)
        {
            using var snapshot = db.CreateSnapshot();
            var a = db.Get(B.U("counter"), left, snapshot);
            var b = db.Get(B.U("counter"), right, snapshot);
            var c = db.Get(B.U("counter"), null, snapshot);
            Assert.Equal(a, b);
            Assert.Equal(a, c);
            last = a is null ? 0 : BitConverter.ToInt32(a);
            observed++;
            if (writer.IsFaulted)
            {
                break;
            }
        }

        await writer.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(observed > 0);
    }

    [Fact]
    public void Unlogged_batch_is_visible_and_survives_a_clean_close_after_flush()
    {
        using var dir = new TempDirectory();
        var path = dir.Sub("db");
        using (var db = RocksDb.Open(path, B.Small))
        {
            using var batch = new WriteBatch();
            for (var i = 0; i < 100; i++)
            {
                batch.Put(B.U($"k{i:D3}"), new byte[100]);
            }

            db.Write(batch, sync: false, disableWal: true);
            Assert.Equal(100, db.Get(B.U("k099"))!.Length);
            db.Flush();
        }

        using var reopened = RocksDb.Open(path, B.Small);
        Assert.NotNull(reopened.Get(B.U("k050")));
    }

    [Fact]
    public void Disposed_batch_throws_object_disposed()
    {
        var batch = new WriteBatch();
        batch.Dispose();
        batch.Dispose();
        Assert.Throws<ObjectDisposedException>(() => batch.Put(B.U("a"), B.U("b")));
        Assert.Throws<ObjectDisposedException>(() => batch.Count);
        using var dir = new TempDirectory();
        using var db = RocksDb.Open(dir.Sub("db"), B.Small);
        Assert.Throws<ObjectDisposedException>(() => db.Write(batch));
    }
}
