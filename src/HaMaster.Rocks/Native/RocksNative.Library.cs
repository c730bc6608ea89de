using System.Reflection;
using System.Runtime.InteropServices;

namespace HaMaster.Rocks.Native;

/// <summary>
/// Raw entry points of RocksDB's C API (<c>rocksdb/c.h</c>, librocksdb 7.8). Objects with their
/// own lifetime (iterators, batches, snapshots, options being built) are passed as
/// <see cref="SafeHandle"/>s, so the marshaller holds a reference for the duration of the call.
/// Objects owned by the database (column families, its shared read/write options) are passed as
/// raw pointers, always under a <see cref="HandleLease"/> on the database: they are freed only
/// when the database handle is, so one reference covers them all (one interlocked pair per call
/// instead of three or four on the hot paths).
/// </summary>
internal static unsafe partial class RocksNative
{
    /// <summary>The logical library name; the resolver maps it onto the installed file.</summary>
    internal const string Library = "rocksdb";

    /// <summary>Tried in order: Debian's runtime package first, then the dev symlink, then the platform default.</summary>
    private static readonly string[] s_candidates = ["librocksdb.so.7.8", "librocksdb.so", "rocksdb"];

    private static readonly nint s_library;
    private static readonly string? s_loadError;
    private static readonly string? s_loadedName;

    // Runs before the first P/Invoke of this class; never throws (a TypeInitializationException
    // would hide the useful message), it records the failure for EnsureLoaded instead.
    static RocksNative()
    {
        var assembly = typeof(RocksNative).Assembly;
        foreach (var name in s_candidates)
        {
            if (NativeLibrary.TryLoad(name, assembly, DllImportSearchPath.SafeDirectories | DllImportSearchPath.AssemblyDirectory, out s_library))
            {
                s_loadedName = name;
                break;
            }
        }

        if (s_library == 0)
        {
            s_loadError = "RocksDB native library not found (tried " + string.Join(", ", s_candidates)
                + "); install Debian package librocksdb7.8 (apt-get install -y librocksdb7.8).";
        }

        try
        {
            NativeLibrary.SetDllImportResolver(assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // A resolver was already registered for this assembly; it is ours from an earlier load context.
        }
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
        => libraryName == Library ? s_library : 0;

    /// <summary>Which candidate name loaded (null when none did).</summary>
    internal static string? LoadedLibraryName => s_loadedName;

    /// <summary>Throws a <see cref="DllNotFoundException"/> naming the package to install when the library is missing.</summary>
    internal static void EnsureLoaded()
    {
        if (s_loadError is not null)
        {
            throw new DllNotFoundException(s_loadError);
        }
    }

    /// <summary>Reads a malloc()-ed UTF-8 string from RocksDB and frees it; null stays null.</summary>
    internal static string? TakeString(nint ptr)
    {
        if (ptr == 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(ptr);
        }
        finally
        {
            rocksdb_free(ptr);
        }
    }
}
