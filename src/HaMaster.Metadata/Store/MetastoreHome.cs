using HaMaster.Metadata.Store.Caching;
using HaMaster.Metadata.Store.Heap;
using HaMaster.Metadata.Store.Rocks;

namespace HaMaster.Metadata.Store;

/// <summary>
/// The metastore's place on disk and its lifecycle: which RocksDB database in the data directory is
/// current (the <c>CURRENT_DB</c> pointer file), opening it, replacing it with a snapshot, and its
/// memory figures. The state machine only ever holds the <see cref="Metastore"/> this hands out.
/// </summary>
/// <remarks>
/// Rocks keeps databases named <c>db-N</c>; installing a snapshot links it into <c>db-N+1.tmp</c>,
/// renames that to <c>db-N+1</c>, opens it, then switches the pointer with an atomic rename, so a
/// crash at any point reopens either the old or the new state (leftovers are removed at open).
/// Heap keeps nothing on disk: it starts empty and the host replays its snapshot and log.
/// </remarks>
internal sealed class MetastoreHome(string dataDir, MetastoreOptions options)
{
    private const string PointerFile = "CURRENT_DB";

    public string DataDirectory { get; } = dataDir;

    /// <summary>Opens the current store, creating the data directory and the first database if needed.</summary>
    public Metastore OpenCurrent()
    {
        Directory.CreateDirectory(DataDirectory);
        if (options.Kind == MetastoreKind.Heap)
        {
            return new HeapMetastore();
        }

        var pointer = Path.Combine(DataDirectory, PointerFile);
        string current;
        if (File.Exists(pointer))
        {
            current = File.ReadAllText(pointer).Trim();
        }
        else
        {
            current = "db-1";
            WritePointer(current);
        }

        foreach (var dir in Directory.EnumerateDirectories(DataDirectory))
        {
            var name = Path.GetFileName(dir);
            if ((name.StartsWith("db-", StringComparison.Ordinal) && name != current) || name.EndsWith(".tmp", StringComparison.Ordinal))
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        return RocksMetastore.Open(Path.Combine(DataDirectory, current), options.RocksDb, options.InodeCacheMaxEntries, options.SessionCacheMaxEntries);
    }

    /// <summary>
    /// Opens a store holding <paramref name="snapshotDirectory"/>'s state (not modified) and makes it
    /// the current one on disk. The caller swaps it in, disposes <paramref name="current"/>, then calls
    /// <see cref="Retire"/> with the directory this returns.
    /// </summary>
    public (Metastore Replacement, string? RetiredDirectory) Install(string snapshotDirectory, Metastore current)
    {
        if (options.Kind == MetastoreKind.Heap)
        {
            return (SnapshotFormat.LoadIntoHeap(snapshotDirectory, Path.Combine(DataDirectory, $"restore-{Environment.TickCount64}.tmp")), null);
        }

        var oldDirectory = ((RocksMetastore)current).Path;
        var name = NextDatabaseName(Path.GetFileName(oldDirectory));
        var staging = Path.Combine(DataDirectory, name + ".tmp");
        var target = Path.Combine(DataDirectory, name);
        DirectoryLinks.LinkOrCopy(snapshotDirectory, staging);
        Directory.Move(staging, target);
        var replacement = RocksMetastore.Open(target, options.RocksDb with { CreateIfMissing = false }, options.InodeCacheMaxEntries, options.SessionCacheMaxEntries);
        WritePointer(name);
        return (replacement, oldDirectory);
    }

    /// <summary>Deletes a database directory <see cref="Install"/> replaced (after its store is disposed).</summary>
    public static void Retire(string? directory)
    {
        if (directory is not null)
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>RocksDB memory in bytes: memtables plus the block cache in use (0 for the Heap store or a disposed one).</summary>
    public static long MemoryBytes(Metastore store)
    {
        if (store is not RocksMetastore rocks) return 0;
        try
        {
            var db = rocks.Database;
            return (db.GetLongProperty("rocksdb.cur-size-all-mem-tables") ?? 0) + db.BlockCacheUsage;
        }
        catch (ObjectDisposedException)
        {
            return 0; // a restore swapped the store meanwhile
        }
    }

    /// <summary>Hits, misses and entries of the inode cache in front of RocksDB (zeros without one).</summary>
    public static InodeCacheStatistics CacheStatistics(Metastore store) =>
        store.Inodes is CachingInodeStore cache ? new(cache.Hits, cache.Misses, cache.Entries) : default;

    /// <summary>Flushes RocksDB memtables to SST files; a no-op for the Heap store.</summary>
    public static void Flush(Metastore store)
    {
        if (store is RocksMetastore rocks)
        {
            rocks.Database.Flush();
        }
    }

    private void WritePointer(string current)
    {
        var temp = Path.Combine(DataDirectory, PointerFile + ".new");
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            stream.Write(System.Text.Encoding.UTF8.GetBytes(current));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, Path.Combine(DataDirectory, PointerFile), overwrite: true);
    }

    private static string NextDatabaseName(string current) =>
        current.StartsWith("db-", StringComparison.Ordinal) && long.TryParse(current.AsSpan(3), out var n) ? $"db-{n + 1}" : "db-1";
}
