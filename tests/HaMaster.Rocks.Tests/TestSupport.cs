using System.Text;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // the leak test counts process-wide native handles

namespace HaMaster.Rocks.Tests;

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
