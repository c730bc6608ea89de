namespace HaMaster.Ufs;

/// <summary>
/// The order <see cref="IUnderFileSystem.ListAsync"/> returns names in: UTF-8 byte order (= code
/// point order), which is also the order S3 keeps keys in. Plain ordinal (UTF-16) order differs
/// for characters above U+E000 versus surrogate pairs.
/// </summary>
public sealed class UfsNameOrder : IComparer<string>
{
    public static readonly UfsNameOrder Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null)
        {
            return -1;
        }

        if (y is null)
        {
            return 1;
        }

        var n = Math.Min(x.Length, y.Length);
        for (var i = 0; i < n; i++)
        {
            var a = x[i];
            var b = y[i];
            if (a != b)
            {
                return Fix(a) - Fix(b);
            }
        }

        return x.Length - y.Length;
    }

    // Surrogates (D800-DFFF) encode code points above FFFF, so they must sort after E000-FFFF.
    private static int Fix(char c) => c >= 0xE000 ? c - 0x800 : c >= 0xD800 ? c + 0x2000 : c;
}
