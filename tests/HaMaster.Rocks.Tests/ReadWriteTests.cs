using System.Buffers;
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
    public void Pinned_reads_copy_once_into_caller_buffers()
    {
        using var dir = new TempDirectory();
        using var db = RocksDb.Open(dir.Sub("db"), B.Small);
        var big = new byte[10_000];
        new Random(7).NextBytes(big);
        db.Put(B.U("big"), big);
        db.Flush(); // read from the block cache, not only the memtable
        var writer = new ArrayBufferWriter<byte>();
        writer.Write(B.U("prefix:"));
        Assert.True(db.TryGet(B.U("big"), writer));
        Assert.Equal(B.U("prefix:").Concat(big), writer.WrittenSpan.ToArray());
        Assert.False(db.TryGet(B.U("absent"), writer));
        Assert.Equal(7 + big.Length, writer.WrittenCount);

        var small = new byte[16];
        Assert.True(db.TryGet(B.U("big"), small, out var length));
        Assert.Equal(big.Length, length);
        Assert.All(small, b => Assert.Equal(0, b)); // too small: nothing copied
        var exact = new byte[length];
        Assert.True(db.TryGet(B.U("big"), exact, out _));
        Assert.Equal(big, exact);
        Assert.False(db.TryGet(B.U("absent"), exact, out length));
        Assert.Equal(-1, length);

        long sum = 0;
        Assert.True(db.TryRead(B.U("big"), ref sum, static (value, ref s) =>
        {
            foreach (var b in value)
            {
                s += b;
            }
        }));
        Assert.Equal(big.Sum(b => (long)b), sum);
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
