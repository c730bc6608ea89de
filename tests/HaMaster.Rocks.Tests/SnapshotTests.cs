using HaMaster.Chaos.Core.Files;
namespace HaMaster.Rocks.Tests;

public class SnapshotTests
{
    [Fact]
    public void Snapshot_isolates_gets_and_iterators_from_later_writes()
    {
        using var dir = new TempDirectory();
        using var db = RocksDb.Open(dir.Sub("db"), B.Small, ["cf"]);
        var cf = db.GetColumnFamily("cf");
        db.Put(B.U("a"), B.U("1"), cf);
        db.Put(B.U("b"), B.U("1"), cf);
        using var snapshot = db.CreateSnapshot();
        db.Put(B.U("a"), B.U("2"), cf);
        db.Delete(B.U("b"), cf);
        db.Put(B.U("c"), B.U("2"), cf);
        db.Flush();

        Assert.Equal("1", B.S(db.Get(B.U("a"), cf, snapshot)));
        Assert.Equal("1", B.S(db.Get(B.U("b"), cf, snapshot)));
        Assert.Null(db.Get(B.U("c"), cf, snapshot));
        Assert.Equal("2", B.S(db.Get(B.U("a"), cf)));
        Assert.Equal(["1", null, null], db.MultiGet([B.U("a"), B.U("c"), B.U("zz")], cf, snapshot).Select(B.S));

        using (var it = db.NewIterator(cf, snapshot))
        {
            it.SeekToFirst();
            Assert.Equal(["a", "b"], B.Keys(it));
        }

        using var live = db.NewIterator(cf);
        live.SeekToFirst();
        Assert.Equal(["a", "c"], B.Keys(live));
    }

    [Fact]
    public void Iterator_outlives_its_snapshot_safely()
    {
        using var dir = new TempDirectory();
        using var db = RocksDb.Open(dir.Sub("db"), B.Small);
        db.Put(B.U("a"), B.U("1"));
        var snapshot = db.CreateSnapshot();
        using var it = db.NewIterator(snapshot: snapshot);
        snapshot.Dispose();
        db.Put(B.U("b"), B.U("1"));
        it.SeekToFirst();
        Assert.Equal(["a"], B.Keys(it)); // the native snapshot is released only after the iterator
        Assert.Throws<ObjectDisposedException>(() => db.Get(B.U("a"), snapshot: snapshot));
        Assert.Throws<ObjectDisposedException>(() => db.NewIterator(snapshot: snapshot));
    }
}
