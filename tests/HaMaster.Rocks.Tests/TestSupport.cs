using System.Text;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // the leak test counts process-wide native handles

namespace HaMaster.Rocks.Tests;

/// <summary>A unique directory under the temp path, deleted with everything in it on Dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "hamaster-rocks-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

internal static class B
{
    public static byte[] U(string s) => Encoding.UTF8.GetBytes(s);

    public static string S(ReadOnlySpan<byte> b) => Encoding.UTF8.GetString(b);

    public static string? S(byte[]? b) => b is null ? null : Encoding.UTF8.GetString(b);

    public static RocksDbOptions Small => new() { BlockCacheBytes = 1 << 20, WriteBufferBytes = 1 << 20 };

    public static List<string> Keys(RocksIterator it, bool forward = true, int max = 10_000)
    {
        var keys = new List<string>();
        while (it.Valid && keys.Count < max)
        {
            keys.Add(S(it.Key));
            if (forward)
            {
                it.Next();
            }
            else
            {
                it.Prev();
            }
        }

        it.ThrowIfError();
        return keys;
    }
}
