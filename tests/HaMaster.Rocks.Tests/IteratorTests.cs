using HaMaster.Chaos.Core.Files;
namespace HaMaster.Rocks.Tests;

public class IteratorTests
{
    private static RocksDb Fill(TempDirectory dir, RocksDbOptions? options = null)
    {
        var db = RocksDb.Open(dir.Sub("db"), options ?? B.Small);
        foreach (var k in new[] { "a1", "a2", "a3", "b1", "b2", "c1" })
        {
            db.Put(B.U(k), B.U("v" + k));
        }

        return db;
    }

    [Fact]
    public void Forward_reverse_and_seeks()
    {
        using var dir = new TempDirectory();
        using var db = Fill(dir);
        using var it = db.NewIterator();
        Assert.False(it.Valid);
        it.SeekToFirst();
        Assert.Equal(["a1", "a2", "a3", "b1", "b2", "c1"], B.Keys(it));
        it.SeekToLast();
        Assert.Equal(["c1", "b2", "b1", "a3", "a2", "a1"], B.Keys(it, forward: false));
        it.Seek(B.U("a25"));
        Assert.Equal("a3", B.S(it.Key));
        Assert.Equal("va3", B.S(it.Value));
        it.SeekForPrev(B.U("a25"));
        Assert.Equal("a2", B.S(it.Key));
        it.Prev();
        Assert.Equal("a1", B.S(it.Key));
        it.Prev();
        Assert.False(it.Valid);
        it.ThrowIfError();
        Assert.Throws<InvalidOperationException>(() => it.Key.Length);
        Assert.Throws<InvalidOperationException>(() => it.Next());
        it.Seek(B.U("zz"));
        Assert.False(it.Valid);
    }

    [Fact]
    public void Bounds_limit_both_directions_and_stay_valid_after_the_caller_drops_its_arrays()
    {
        using var dir = new TempDirectory();
        using var db = Fill(dir);
        db.Flush();
        using var it = MakeBounded(db);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        it.SeekToFirst();
        Assert.Equal(["a2", "a3", "b1"], B.Keys(it));
        it.SeekToLast();
        Assert.Equal(["b1", "a3", "a2"], B.Keys(it, forward: false));
        it.Seek(B.U("a"));
        Assert.Equal("a2", B.S(it.Key));

        using var upperOnly = db.NewIterator(upperBound: B.U("b"));
        upperOnly.SeekToLast();
        Assert.Equal("a3", B.S(upperOnly.Key));
        using var lowerOnly = db.NewIterator(lowerBound: B.U("b2"));
        lowerOnly.SeekToFirst();
        Assert.Equal(["b2", "c1"], B.Keys(lowerOnly));
    }

    private static RocksIterator MakeBounded(RocksDb db) => db.NewIterator(lowerBound: B.U("a2"), upperBound: B.U("b2"));

    [Fact]
    public void Prefix_same_as_start_stops_at_the_prefix_end()
    {
        using var dir = new TempDirectory();
        using var db = Fill(dir, B.Small with { FixedPrefixLength = 1 });
        db.Flush();
        db.Put(B.U("b3"), B.U("memtable"));
        using var prefixed = db.NewIterator(prefixSameAsStart: true);
        prefixed.Seek(B.U("b"));
        Assert.Equal(["b1", "b2", "b3"], B.Keys(prefixed));
        using var total = db.NewIterator();
        total.Seek(B.U("b"));
        Assert.Equal(["b1", "b2", "b3", "c1"], B.Keys(total));
        Assert.Equal("memtable", B.S(db.Get(B.U("b3"))));
    }

    [Fact]
    public void Iterator_over_a_column_family_sees_only_it()
    {
        using var dir = new TempDirectory();
        using var db = Fill(dir);
        var cf = db.GetColumnFamily("default");
        using var other = RocksDb.Open(dir.Sub("db2"), B.Small, ["x"]);
        other.Put(B.U("only"), B.U("1"), other.GetColumnFamily("x"));
        other.Put(B.U("not-this"), B.U("1"));
        using var it = other.NewIterator(other.GetColumnFamily("x"));
        it.SeekToFirst();
        Assert.Equal(["only"], B.Keys(it));
        using var it2 = db.NewIterator(cf);
        it2.SeekToFirst();
        Assert.Equal(6, B.Keys(it2).Count);
    }

    [Fact]
    public void Iterators_are_disposed_with_their_database()
    {
        using var dir = new TempDirectory();
        var db = Fill(dir);
        var it = db.NewIterator();
        it.SeekToFirst();
        db.Dispose();
        Assert.Throws<ObjectDisposedException>(() => it.SeekToFirst());
        Assert.Throws<ObjectDisposedException>(() => it.Key.Length);
        Assert.Throws<ObjectDisposedException>(() => it.ThrowIfError());
        it.Dispose();

        // The database really closed: it can be opened again.
        using var again = RocksDb.Open(dir.Sub("db"), B.Small);
        Assert.Equal("va1", B.S(again.Get(B.U("a1"))));
    }
}
