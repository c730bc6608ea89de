using System.Collections.Concurrent;

namespace HaMaster.Rocks;

/// <summary>Which compressions the loaded librocksdb supports, probed once per value. Safe from any thread.</summary>
internal static class CompressionProbe
{
    private static readonly ConcurrentDictionary<RocksCompression, bool> s_support = new();

    /// <summary>
    /// Whether the loaded librocksdb was built with <paramref name="compression"/>. Probed once per
    /// value by creating a throwaway database in the temp directory (RocksDB checks at open).
    /// </summary>
    public static bool IsSupported(RocksCompression compression)
        => s_support.GetOrAdd(compression, static c =>
        {
            var dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "hamaster-rocks-probe-" + Guid.NewGuid().ToString("N"));
            try
            {
                using var db = RocksDb.Open(dir, new RocksDbOptions { Compression = c, BlockCacheBytes = 0, WriteBufferBytes = 1 << 20 });
                return true;
            }
            catch (RocksDbException e) when (e.Kind is RocksErrorKind.InvalidArgument or RocksErrorKind.NotSupported)
            {
                return false;
            }
            finally
            {
                TryDeleteDirectory(dir);
            }
        });

    private static void TryDeleteDirectory(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }
}
