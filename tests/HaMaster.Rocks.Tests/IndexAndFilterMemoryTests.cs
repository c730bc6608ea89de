using HaMaster.Chaos.Core.Files;

namespace HaMaster.Rocks.Tests;

/// <summary>
/// Index and filter blocks are held in the block cache by default, so a database's memory stays
/// within the cache however much data it holds; without the option RocksDB keeps them outside it,
/// growing with every SST file (what drove a master's RSS toward 1 GiB at 77 M inodes).
/// </summary>
public class IndexAndFilterMemoryTests
{
    [Fact]
    public void Index_and_filter_blocks_live_in_the_block_cache_by_default()
    {
        var outside = TableReaderBytesAfterLoad(B.Small with { BlockCacheBytes = 8 << 20, IndexAndFiltersInCache = false });
        var cached = TableReaderBytesAfterLoad(B.Small with { BlockCacheBytes = 8 << 20 });

        // 200,000 keys at 10 bloom bits are ~250 KB of filter alone, plus the index.
        Assert.True(outside > 200_000, $"without the option, table readers hold {outside} bytes outside the cache");
        Assert.True(cached < outside / 10, $"with it, table readers hold {cached} bytes outside the cache (without: {outside})");
    }

    [Fact]
    public void Reads_find_every_key_with_partitioned_index_and_filters()
    {
        using var dir = new TempDirectory();
        using var db = RocksDb.Open(dir.Sub("db"), B.Small with { BlockCacheBytes = 1 << 20 });
        Load(db, 50_000);
        for (var i = 0; i < 50_000; i += 97)
        {
            Assert.NotNull(db.Get(B.U($"key{i:D8}")));
            Assert.Null(db.Get(B.U($"key{i:D8}-absent")));
        }
    }

    private static long TableReaderBytesAfterLoad(RocksDbOptions options)
    {
        using var dir = new TempDirectory();
        using var db = RocksDb.Open(dir.Sub("db"), options);
        Load(db, 200_000);
        Assert.NotNull(db.Get(B.U("key00000123")));
        return db.GetLongProperty(RocksProperties.EstimateTableReadersMem) ?? throw new InvalidOperationException("no table-readers property");
    }

    private static void Load(RocksDb db, int keys)
    {
        using (var batch = new WriteBatch())
        {
            for (var i = 0; i < keys; i++) batch.Put(B.U($"key{i:D8}"), new byte[16]);
            db.Write(batch);
        }

        db.Flush(wait: true);
    }
}
