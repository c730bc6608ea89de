using RocksDbSharp;

namespace HaMaster.Rocks;

/// <summary>Options objects shared by every database (read-only for RocksDB), created after the library loads.</summary>
internal static class SharedOptions
{
    public static readonly ReadOptions Read = new();

    // index: (sync ? 1 : 0) | (disableWal ? 2 : 0)
    private static readonly WriteOptions[] s_write =
    [
        new WriteOptions().SetSync(false),
        new WriteOptions().SetSync(true),
        new WriteOptions().SetSync(false).DisableWal(1),
        new WriteOptions().SetSync(true).DisableWal(1),
    ];

    private static readonly FlushOptions[] s_flush = [new FlushOptions().SetWaitForFlush(false), new FlushOptions().SetWaitForFlush(true)];

    public static WriteOptions Write(bool sync, bool disableWal) => s_write[(sync ? 1 : 0) | (disableWal ? 2 : 0)];

    public static FlushOptions Flush(bool wait) => s_flush[wait ? 1 : 0];
}
