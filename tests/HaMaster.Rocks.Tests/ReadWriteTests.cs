using HaMaster.Chaos.Core.Files;

namespace HaMaster.Rocks.Tests;

public class ReadWriteTests
{
    [Fact]
    public void Put_get_delete_round_trip_including_empty_values()
    {
        using var dir = new TempDirectory();
        using var db = RocksDb.Open(dir.Sub("db"), B.Small);
        db.Put(B.U("a"), B.U("1"));
        db.Put(B.U("empty"), ReadOnlySpan<byte>.Empty, sync: true);
        Assert.Equal("1", B.S(db.Get(B.U("a"))));
        Assert.Empty(db.Get(B.U("empty"))!);
        Assert.Null(db.Get(B.U("missing")));
        db.Delete(B.U("a"));
        Assert.Null(db.Get(B.U("a")));
        db.Delete(B.U("never-existed"), sync: true);
    }

    [Fact]
    public void Large_values_read_back_from_sst_files_and_the_block_cache()
    {
        using var dir = new TempDirectory();
        using var db = RocksDb.Open(dir.Sub("db"), B.Small);
        var big = new byte[100_000];
        new Random(7).NextBytes(big);
        db.Put(B.U("big"), big);
        Assert.Equal(big, db.Get(B.U("big"))); // memtable
        db.Flush();
        Assert.Equal(big, db.Get(B.U("big"))); // SST file
        Assert.Equal(big, db.Get(B.U("big"))); // block cache
        Assert.True(db.BlockCacheUsage > 0);
        Assert.Null(db.Get(B.U("absent")));
    }

    [Fact]
    public void Multi_get_returns_values_in_key_order_and_null_for_absent()
    {
        using var dir = new TempDirectory();
        using var db = RocksDb.Open(dir.Sub("db"), B.Small, ["cf"]);
        var cf = db.GetColumnFamily("cf");
        db.Put(B.U("a"), B.U("1"), cf);
        db.Put(B.U("c"), B.U("3"), cf);
        db.Put(B.U("b"), B.U("default-only"));
        var values = db.MultiGet([B.U("c"), B.U("b"), B.U("a"), []], cf);
        Assert.Equal(["3", null, "1", null], values.Select(B.S));
        Assert.Empty(db.MultiGet([]));
    }

    [Fact]
    public void Delete_range_removes_exactly_the_half_open_range()
    {
        using var dir = new TempDirectory();
        using var db = RocksDb.Open(dir.Sub("db"), B.Small, ["cf"]);
        var cf = db.GetColumnFamily("cf");
        foreach (var k in new[] { "a", "b", "c", "d" })
        {
            db.Put(B.U(k), B.U(k), cf);
            db.Put(B.U(k), B.U(k));
        }

        db.DeleteRange(B.U("b"), B.U("d"), cf);
        Assert.Equal(["a", null, null, "d"], new[] { "a", "b", "c", "d" }.Select(k => B.S(db.Get(B.U(k), cf))));
        Assert.Equal("b", B.S(db.Get(B.U("b")))); // other column family untouched
        db.Flush();
        db.CompactRange(cf);
        Assert.Null(db.Get(B.U("c"), cf));
        Assert.Equal("d", B.S(db.Get(B.U("d"), cf)));
    }

    [Fact]
    public async Task Concurrent_readers_and_writers_see_consistent_values()
    {
        using var dir = new TempDirectory();
        using var db = RocksDb.Open(dir.Sub("db"), B.Small);
        var tasks = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 2000; i++)
            {
                var key = B.U($"t{t}-{i % 50}");
                db.Put(key, B.U($"{i}"));
                Assert.Equal($"{i}", B.S(db.Get(key)));
            }
        })).ToArray();
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("1999", B.S(db.Get(B.U("t3-49"))));
    }
}
