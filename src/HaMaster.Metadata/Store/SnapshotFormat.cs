using HaMaster.Metadata.Store.Rocks;
using HaMaster.Rocks;

namespace HaMaster.Metadata.Store;

/// <summary>
/// The snapshot format is a RocksDB database laid out as <see cref="RocksColumns"/> (what a RocksDB
/// checkpoint of the Rocks metastore is). The Heap metastore exports and imports the same format, so
/// either kind restores the other's snapshots.
/// </summary>
internal static class SnapshotFormat
{
    private static readonly RocksDbOptions SnapshotOptions = new() { BlockCacheBytes = 8L << 20, WriteBufferBytes = 16L << 20 };

    /// <summary>Writes <paramref name="source"/> as a RocksDB database into a new directory.</summary>
    public static void Export(Metastore source, string directory)
    {
        if (Directory.Exists(directory) || File.Exists(directory))
        {
            throw new IOException($"snapshot target {directory} already exists");
        }

        using var target = RocksMetastore.Open(directory, SnapshotOptions, inodeCacheEntries: 0);
        target.Import(source);
    }

    /// <summary>Loads a snapshot into memory. The snapshot directory is left untouched: it is linked
    /// into a scratch directory first because opening a RocksDB database writes to it.</summary>
    public static Heap.HeapMetastore LoadIntoHeap(string snapshotDirectory, string scratchDirectory)
    {
        DirectoryLinks.LinkOrCopy(snapshotDirectory, scratchDirectory);
        try
        {
            using var source = RocksMetastore.Open(scratchDirectory, SnapshotOptions with { CreateIfMissing = false }, inodeCacheEntries: 0);
            return Heap.HeapMetastore.CopyOf(source);
        }
        finally
        {
            Directory.Delete(scratchDirectory, recursive: true);
        }
    }
}
