using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using HaMaster.Rocks.Native;

namespace HaMaster.Rocks;

// Opening, listing column families, native option construction.
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
    public static unsafe RocksDb Open(string path, RocksDbOptions options, IReadOnlyList<string>? columnFamilies = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        RocksNative.EnsureLoaded();
        var fullPath = System.IO.Path.GetFullPath(path);
        if (options.CreateIfMissing)
        {
            CreateParentDirectory(fullPath);
        }

        var names = ColumnFamilyNames(fullPath, columnFamilies);

        using var nativeOptions = CreateOptions(options, out var cache);
        var db = new DbHandle();
        var handles = new ColumnFamilyHandle[names.Length];
        try
        {
            var namePointers = new nint[names.Length];
            var optionPointers = new nint[names.Length];
            var cfPointers = new nint[names.Length];
            var addedOptions = false;
            nativeOptions.DangerousAddRef(ref addedOptions);
            try
            {
                for (var i = 0; i < names.Length; i++)
                {
                    namePointers[i] = Marshal.StringToCoTaskMemUTF8(names[i]);
                    optionPointers[i] = nativeOptions.DangerousGetHandle();
                }

                nint error = 0;
                nint pointer;
                fixed (nint* namesPtr = namePointers, optionsPtr = optionPointers, cfsPtr = cfPointers)
                {
                    pointer = RocksNative.rocksdb_open_column_families(nativeOptions, fullPath, names.Length, namesPtr, optionsPtr, cfsPtr, &error);
                }

                if (error != 0)
                {
                    var message = RocksNative.TakeString(error) ?? "unknown error";
                    throw new RocksDbException("open", fullPath, message, OpenHint(message, options));
                }

                db.Attach(pointer, "open");
            }
            finally
            {
                foreach (var name in namePointers)
                {
                    Marshal.FreeCoTaskMem(name);
                }

                nativeOptions.DangerousRelease();
            }

            // From here on the database handle owns (and on failure frees) everything created.
            if (cache is not null)
            {
                db.Own(cache);
            }

            for (var i = 0; i < names.Length; i++)
            {
                handles[i] = new ColumnFamilyHandle();
                db.Own(handles[i]);
                handles[i].Attach(cfPointers[i], "open column family");
            }

            var readOptions = new ReadOptionsHandle();
            db.Own(readOptions);
            readOptions.Attach(RocksNative.rocksdb_readoptions_create(), "create read options");
            var writeOptions = new WriteOptionsHandle[4];
            for (var i = 0; i < writeOptions.Length; i++)
            {
                writeOptions[i] = new WriteOptionsHandle();
                db.Own(writeOptions[i]);
                writeOptions[i].Attach(RocksNative.rocksdb_writeoptions_create(), "create write options");
                RocksNative.rocksdb_writeoptions_set_sync(writeOptions[i], (byte)(i & 1));
                RocksNative.rocksdb_writeoptions_disable_WAL(writeOptions[i], (i >> 1) & 1);
            }

            return new RocksDb(fullPath, db, cache, names, handles, readOptions, writeOptions);
        }
        catch
        {
            if (db.IsInvalid)
            {
                cache?.Dispose(); // not adopted yet
            }

            db.Dispose();
            throw;
        }
    }

    /// <summary>Lists the column families of an existing database without opening it.</summary>
    /// <exception cref="RocksDbException">No database there, or its files are unreadable.</exception>
    public static unsafe IReadOnlyList<string> ListColumnFamilies(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        RocksNative.EnsureLoaded();
        var fullPath = System.IO.Path.GetFullPath(path);
        using var options = new OptionsHandle();
        options.Attach(RocksNative.rocksdb_options_create(), "create options");
        nuint count = 0;
        nint error = 0;
        var list = RocksNative.rocksdb_list_column_families(options, fullPath, &count, &error);
        RocksDbException.ThrowIfError(error, "list column families", fullPath);
        try
        {
            var names = new string[(int)count];
            for (var i = 0; i < names.Length; i++)
            {
                names[i] = Marshal.PtrToStringUTF8(list[i]) ?? string.Empty;
            }

            return names;
        }
        finally
        {
            RocksNative.rocksdb_list_column_families_destroy(list, count);
        }
    }

    /// <summary>
    /// Whether this librocksdb was built with <paramref name="compression"/>. Probed once per
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
            catch (RocksDbException e) when (e.NativeMessage.Contains("not linked", StringComparison.Ordinal))
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
        if (File.Exists(System.IO.Path.Combine(fullPath, "CURRENT")))
        {
            try
            {
                names.AddRange(ListColumnFamilies(fullPath));
            }
            catch (RocksDbException)
            {
                // Unreadable metadata: the open below reports the real error.
            }
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

    /// <summary>Builds native options; the caller owns both the options and the returned cache.</summary>
    private static OptionsHandle CreateOptions(RocksDbOptions options, out CacheHandle? cache)
    {
        cache = null;
        var native = new OptionsHandle();
        try
        {
            native.Attach(RocksNative.rocksdb_options_create(), "create options");
            RocksNative.rocksdb_options_set_create_if_missing(native, options.CreateIfMissing ? (byte)1 : (byte)0);
            RocksNative.rocksdb_options_set_create_missing_column_families(native, 1);
            RocksNative.rocksdb_options_set_max_open_files(native, options.MaxOpenFiles);
            RocksNative.rocksdb_options_set_write_buffer_size(native, (nuint)options.WriteBufferBytes);
            RocksNative.rocksdb_options_set_compression(native, options.NativeCompression);
            RocksNative.rocksdb_options_set_max_background_jobs(native, options.MaxBackgroundJobs);
            RocksNative.rocksdb_options_set_paranoid_checks(native, options.ParanoidChecks ? (byte)1 : (byte)0);
            if (options.MemtableBloomRatio > 0)
            {
                RocksNative.rocksdb_options_set_memtable_prefix_bloom_size_ratio(native, options.MemtableBloomRatio);
                RocksNative.rocksdb_options_set_memtable_whole_key_filtering(native, 1);
            }
            RocksNative.rocksdb_options_set_keep_log_file_num(native, (nuint)options.KeepLogFiles);
            if (options.FixedPrefixLength is { } prefix)
            {
                // Ownership of the transform passes to the options.
                RocksNative.rocksdb_options_set_prefix_extractor(native, RocksNative.rocksdb_slicetransform_create_fixed_prefix((nuint)prefix));
            }

            using var table = new BlockBasedOptionsHandle();
            table.Attach(RocksNative.rocksdb_block_based_options_create(), "create table options");
            if (options.BlockCacheBytes > 0)
            {
                cache = new CacheHandle();
                cache.Attach(RocksNative.rocksdb_cache_create_lru((nuint)options.BlockCacheBytes), "create block cache");
                RocksNative.rocksdb_block_based_options_set_block_cache(table, cache);
            }
            else
            {
                RocksNative.rocksdb_block_based_options_set_no_block_cache(table, 1);
            }

            if (options.BloomBitsPerKey > 0)
            {
                // Ownership of the policy passes to the table options.
                RocksNative.rocksdb_block_based_options_set_filter_policy(table, RocksNative.rocksdb_filterpolicy_create_bloom_full(options.BloomBitsPerKey));
            }

            RocksNative.rocksdb_options_set_block_based_table_factory(native, table); // copies the table options
            return native;
        }
        catch
        {
            cache?.Dispose();
            cache = null;
            native.Dispose();
            throw;
        }
    }
}
