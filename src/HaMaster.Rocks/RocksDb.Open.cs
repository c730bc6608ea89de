using System.Collections.Concurrent;
using RocksDbSharp;
using SharpDb = RocksDbSharp.RocksDb;

namespace HaMaster.Rocks;

// Opening, listing column families, building RocksDbSharp's options from RocksDbOptions.
public sealed partial class RocksDb
{
    private static readonly ConcurrentDictionary<RocksCompression, bool> s_compressionSupport = new();

    /// <summary>
    /// Opens (or creates, see <see cref="RocksDbOptions.CreateIfMissing"/>) the database at
    /// <paramref name="path"/>. "default" is always opened; the column families named in
    /// <paramref name="columnFamilies"/> are created when missing; column families the database
    /// already has are opened too, so a checkpoint always opens whole.
    /// </summary>
    /// <exception cref="RocksDbException">RocksDB refused: bad path, locked by another instance, corrupt files, missing database.</exception>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    /// <exception cref="DllNotFoundException">The package's native library could not be loaded.</exception>
    public static RocksDb Open(string path, RocksDbOptions options, IReadOnlyList<string>? columnFamilies = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        RocksLibrary.EnsureLoaded();
        var fullPath = System.IO.Path.GetFullPath(path);
        if (options.CreateIfMissing)
        {
            CreateParentDirectory(fullPath);
        }

        var names = ColumnFamilyNames(fullPath, columnFamilies);
        var dbOptions = CreateDbOptions(options);
        var cfOptions = CreateColumnFamilyOptions(options, out var cache);
        var families = new ColumnFamilies(cfOptions);
        foreach (var name in names.Where(n => n != DefaultColumnFamilyName))
        {
            families.Add(name, cfOptions);
        }

        SharpDb db;
        try
        {
            db = SharpDb.Open(dbOptions, fullPath, families);
        }
        catch (RocksDbSharpException e)
        {
            if (cache is not null)
            {
                ReleaseCache(cache);
            }

            throw RocksDbException.From(e, "open", fullPath, OpenHint(e.Message, options));
        }

        try
        {
            return new RocksDb(fullPath, db, cache, names);
        }
        catch
        {
            db.Dispose();
            if (cache is not null)
            {
                ReleaseCache(cache);
            }

            throw;
        }
    }

    /// <summary>Lists the column families of an existing database without opening it.</summary>
    /// <exception cref="RocksDbException">No database there, or its files are unreadable.</exception>
    public static IReadOnlyList<string> ListColumnFamilies(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        RocksLibrary.EnsureLoaded();
        var fullPath = System.IO.Path.GetFullPath(path);
        return RocksDbException.Wrap("list column families", fullPath, () => SharpDb.ListColumnFamilies(new DbOptions(), fullPath).ToArray());
    }

    /// <summary>
    /// Whether the loaded librocksdb was built with <paramref name="compression"/>. Probed once per
    /// value by creating a throwaway database in the temp directory (RocksDB checks at open).
    /// </summary>
    public static bool IsCompressionSupported(RocksCompression compression)
        => s_compressionSupport.GetOrAdd(compression, static c =>
        {
            var dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "hamaster-rocks-probe-" + Guid.NewGuid().ToString("N"));
            try
            {
                using var db = Open(dir, new RocksDbOptions { Compression = c, BlockCacheBytes = 0, WriteBufferBytes = 1 << 20 });
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

    // RocksDB creates only the last path component; create the parents too. A failure here is
    // left for RocksDB to report (with its own message) when it tries the directory itself.
    private static void CreateParentDirectory(string fullPath)
    {
        var parent = System.IO.Path.GetDirectoryName(fullPath);
        if (string.IsNullOrEmpty(parent) || Directory.Exists(parent))
        {
            return;
        }

        try
        {
            Directory.CreateDirectory(parent);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

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

    private static string[] ColumnFamilyNames(string fullPath, IReadOnlyList<string>? requested)
    {
        var names = new List<string> { DefaultColumnFamilyName };
        if (File.Exists(System.IO.Path.Combine(fullPath, "CURRENT"))
            && SharpDb.TryListColumnFamilies(new DbOptions(), fullPath, out var existing))
        {
            // Unreadable metadata (TryList false): the open below reports the real error.
            names.AddRange(existing);
        }

        foreach (var name in requested ?? [])
        {
            ArgumentException.ThrowIfNullOrEmpty(name, nameof(requested));
            names.Add(name);
        }

        return [.. names.Distinct(StringComparer.Ordinal)];
    }

    private static string? OpenHint(string message, RocksDbOptions options)
    {
        if (message.Contains("not linked with the binary", StringComparison.Ordinal))
        {
            return $"Compression {options.Compression} is not compiled into this librocksdb; choose another RocksDbOptions.Compression (RocksDb.IsCompressionSupported tells which are).";
        }

        if (message.Contains("LOCK", StringComparison.Ordinal))
        {
            return "Another RocksDb instance (in this or another process) has this database open.";
        }

        if (message.Contains("does not exist", StringComparison.Ordinal))
        {
            return "No database at this path (CreateIfMissing is false).";
        }

        return null;
    }

    /// <summary>Database-wide options (RocksDbSharp keeps them alive with the database).</summary>
    private static DbOptions CreateDbOptions(RocksDbOptions options)
    {
        var db = new DbOptions()
            .SetCreateIfMissing(options.CreateIfMissing)
            .SetCreateMissingColumnFamilies(true)
            .SetMaxOpenFiles(options.MaxOpenFiles)
            .SetParanoidChecks(options.ParanoidChecks)
            .SetKeepLogFileNum((ulong)options.KeepLogFiles);

        // No managed setter for max_background_jobs (only the older per-kind limits): RocksDbSharp's own C API surface.
        Native.Instance.rocksdb_options_set_max_background_jobs(db.Handle, options.MaxBackgroundJobs);
        return db;
    }

    /// <summary>Options of every column family: memtable, compression, table format, filters, block cache.</summary>
    private static ColumnFamilyOptions CreateColumnFamilyOptions(RocksDbOptions options, out Cache? cache)
    {
        var cf = new ColumnFamilyOptions()
            .SetWriteBufferSize((ulong)options.WriteBufferBytes)
            .SetCompression(options.Compression switch
            {
                RocksCompression.None => Compression.No,
                RocksCompression.Snappy => Compression.Snappy,
                RocksCompression.Lz4 => Compression.Lz4,
                RocksCompression.Zstd => Compression.Zstd,
                _ => throw new ArgumentOutOfRangeException(nameof(options), options.Compression, "unknown compression"),
            });
        if (options.MemtableBloomRatio > 0)
        {
            cf.SetMemtablePrefixBloomSizeRatio(options.MemtableBloomRatio);
            // Whole-key filtering in the memtable bloom has no managed setter either.
            Native.Instance.rocksdb_options_set_memtable_whole_key_filtering(cf.Handle, 1);
        }

        if (options.FixedPrefixLength is { } prefix)
        {
            cf.SetPrefixExtractor(SliceTransform.CreateFixedPrefix((ulong)prefix));
        }

        var table = new BlockBasedTableOptions().SetFormatVersion(options.SstFormatVersion);
        cache = null;
        if (options.BlockCacheBytes > 0)
        {
            cache = Cache.CreateLru((ulong)options.BlockCacheBytes);
#pragma warning disable CA1816 // freed by RocksDb.ReleaseCache, never by its finalizer
            GC.SuppressFinalize(cache);
#pragma warning restore CA1816
            table.SetBlockCache(cache);
        }
        else
        {
            table.SetNoBlockCache(true);
        }

        if (options.BloomBitsPerKey > 0)
        {
            table.SetFilterPolicy(BloomFilterPolicy.Create(options.BloomBitsPerKey, use_block_based_builder: false));
        }

        cf.SetBlockBasedTableFactory(table);
        return cf;
    }
}
