using RocksDbSharp;

namespace HaMaster.Rocks;

/// <summary>The native RocksDB library: the one the RocksDB NuGet package ships (runtimes/RID/native).</summary>
public static class RocksLibrary
{
    /// <summary>The file RocksDbSharp loaded (null before the first use or when loading failed).</summary>
    public static string? LoadedPath => NativeImport.Auto.LoadedPath;

    /// <summary>Loads the library now; throws a <see cref="DllNotFoundException"/> saying what was searched when it cannot.</summary>
    public static void EnsureLoaded()
    {
        try
        {
            _ = Native.Instance;
        }
        catch (TypeInitializationException e)
        {
            throw new DllNotFoundException(
                "RocksDB's native library could not be loaded. It comes with the RocksDB NuGet package (runtimes/<rid>/native/librocksdb.so next to the application); publish for a runtime the package ships. "
                + (e.InnerException?.Message ?? e.Message), e);
        }
    }
}
