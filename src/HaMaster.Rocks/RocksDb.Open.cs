using RocksDbSharp;
using SharpDb = RocksDbSharp.RocksDb;

namespace HaMaster.Rocks;

// Opening, listing column families, building RocksDbSharp's options from RocksDbOptions.
public sealed partial class RocksDb
{
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

        var names = ColumnFamilySet.NamesToOpen(fullPath, columnFamilies);
        var dbOptions = NativeOptions.CreateDbOptions(options);
        var cfOptions = NativeOptions.CreateColumnFamilyOptions(options, out var cache);
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
                NativeOptions.ReleaseCache(cache);
            }

            throw RocksDbException.From(e, "open", fullPath, NativeOptions.OpenHint(e.Message, options));
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
                NativeOptions.ReleaseCache(cache);
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
    public static bool IsCompressionSupported(RocksCompression compression) => CompressionProbe.IsSupported(compression);

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
}
