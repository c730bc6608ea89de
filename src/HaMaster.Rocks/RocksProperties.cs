namespace HaMaster.Rocks;

/// <summary>Names of RocksDB properties worth reading in a metadata store.</summary>
public static class RocksProperties
{
    public const string EstimateNumKeys = "rocksdb.estimate-num-keys";
    public const string CurSizeAllMemTables = "rocksdb.cur-size-all-mem-tables";
    public const string BlockCacheUsage = "rocksdb.block-cache-usage";
    public const string TotalSstFilesSize = "rocksdb.total-sst-files-size";
    public const string LiveSstFilesSize = "rocksdb.live-sst-files-size";
    public const string NumFilesAtLevel0 = "rocksdb.num-files-at-level0";
    public const string Stats = "rocksdb.stats";

    /// <summary>Memory of open SST readers outside the block cache (index and filter blocks when they are not cached).</summary>
    public const string EstimateTableReadersMem = "rocksdb.estimate-table-readers-mem";
}
