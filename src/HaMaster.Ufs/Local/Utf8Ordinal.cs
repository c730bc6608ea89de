namespace HaMaster.Ufs.Local;

/// <summary>
/// Compares strings in UTF-8 byte order (= code point order), the order the interface promises.
/// UTF-16 ordinal order differs only when a surrogate meets a code unit in U+E000-U+FFFF; the
/// fix-up below moves surrogates above that range (as ICU's code point order comparison does).
/// </summary>
internal sealed class Utf8Ordinal : IComparer<string>
{
    public static readonly Utf8Ordinal Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        var length = Math.Min(x.Length, y.Length);
        for (var i = 0; i < length; i++)
        {
            int a = x[i], b = y[i];
            if (a == b) continue;
            return FixUp(a) - FixUp(b);
        }

        return x.Length - y.Length;
    }

    private static int FixUp(int c) => c < 0xD800 ? c : c >= 0xE000 ? c - 0x800 : c + 0x2000;
}
