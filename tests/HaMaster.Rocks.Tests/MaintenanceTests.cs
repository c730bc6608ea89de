using HaMaster.Chaos.Core.Files;
namespace HaMaster.Rocks.Tests;

public class MaintenanceTests
{
    [Fact]
    public void Flush_compaction_and_properties_report_what_happened()
    {
        using var dir = new TempDirectory();
        using var db = RocksDb.Open(dir.Sub("db"), B.Small with { BlockCacheBytes = 8 << 20 }, ["cf"]);
        var cf = db.GetColumnFamily("cf");
        for (var i = 0; i < 2000; i++)
        {
            db.Put(B.U($"k{i:D5}"), new byte[200], cf);
        }

        Assert.True(db.GetLongProperty(RocksProperties.CurSizeAllMemTables, cf) > 100_000);
        Assert.Equal(0, db.GetLongProperty(RocksProperties.TotalSstFilesSize, cf));
        var keys = db.GetLongProperty(RocksProperties.EstimateNumKeys, cf);
        Assert.InRange(keys!.Value, 1500, 2500);
        Assert.Equal(keys.ToString(), db.GetProperty(RocksProperties.EstimateNumKeys, cf));

        db.Flush(wait: true);
        var sst = db.GetLongProperty(RocksProperties.TotalSstFilesSize, cf);
        Assert.True(sst > 0);
        Assert.True(db.GetLongProperty(RocksProperties.LiveSstFilesSize, cf) > 0);
        Assert.True(db.GetLongProperty(RocksProperties.CurSizeAllMemTables, cf) < 100_000);
        Assert.Equal(1, db.GetLongProperty(RocksProperties.NumFilesAtLevel0, cf));

        for (var i = 0; i < 2000; i += 10)
        {
            Assert.NotNull(db.Get(B.U($"k{i:D5}"), cf));
        }

        Assert.True(db.GetLongProperty(RocksProperties.BlockCacheUsage) > 0);
        Assert.True(db.BlockCacheUsage > 0);

        db.DeleteRange(B.U("k00000"), B.U("k99999"), cf);
        db.Flush(cf);
        db.CompactRange(cf);
        Assert.Equal(0, db.GetLongProperty(RocksProperties.NumFilesAtLevel0, cf));
        Assert.True(db.GetLongProperty(RocksProperties.TotalSstFilesSize, cf) < sst);
        db.CompactRange(cf, B.U("a"), B.U("z"));

        Assert.Null(db.GetProperty("rocksdb.no-such-property"));
        Assert.Null(db.GetLongProperty("rocksdb.no-such-property"));
        Assert.Contains("Compaction Stats", db.GetProperty(RocksProperties.Stats));
        Assert.Null(db.GetLongProperty(RocksProperties.Stats));
    }
}
