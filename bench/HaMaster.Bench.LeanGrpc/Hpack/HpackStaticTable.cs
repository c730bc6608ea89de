using System.Text;

namespace HaMaster.Bench.LeanGrpc.Hpack;

/// <summary>The 61-entry static table of RFC 7541 Appendix A (indices 1..61).</summary>
internal static class HpackStaticTable
{
    public const int Count = 61;

    // Index 0 of these arrays is RFC index 1.
    private static readonly byte[][] Names;
    private static readonly byte[][] Values;

    // First static index carrying each name, for the encoder's "indexed name" literals.
    private static readonly Dictionary<string, int> NameIndices = new(StringComparer.Ordinal);

    static HpackStaticTable()
    {
        (string Name, string Value)[] entries =
        [
            (":authority", ""),
            (":method", "GET"),
            (":method", "POST"),
            (":path", "/"),
            (":path", "/index.html"),
            (":scheme", "http"),
            (":scheme", "https"),
            (":status", "200"),
            (":status", "204"),
            (":status", "206"),
            (":status", "304"),
            (":status", "400"),
            (":status", "404"),
            (":status", "500"),
            ("accept-charset", ""),
            ("accept-encoding", "gzip, deflate"),
            ("accept-language", ""),
            ("accept-ranges", ""),
            ("accept", ""),
            ("access-control-allow-origin", ""),
            ("age", ""),
            ("allow", ""),
            ("authorization", ""),
            ("cache-control", ""),
            ("content-disposition", ""),
            ("content-encoding", ""),
            ("content-language", ""),
            ("content-length", ""),
            ("content-location", ""),
            ("content-range", ""),
            ("content-type", ""),
            ("cookie", ""),
            ("date", ""),
            ("etag", ""),
            ("expect", ""),
            ("expires", ""),
            ("from", ""),
            ("host", ""),
            ("if-match", ""),
            ("if-modified-since", ""),
            ("if-none-match", ""),
            ("if-range", ""),
            ("if-unmodified-since", ""),
            ("last-modified", ""),
            ("link", ""),
            ("location", ""),
            ("max-forwards", ""),
            ("proxy-authenticate", ""),
            ("proxy-authorization", ""),
            ("range", ""),
            ("referer", ""),
            ("refresh", ""),
            ("retry-after", ""),
            ("server", ""),
            ("set-cookie", ""),
            ("strict-transport-security", ""),
            ("transfer-encoding", ""),
            ("user-agent", ""),
            ("vary", ""),
            ("via", ""),
            ("www-authenticate", ""),
        ];

        Names = new byte[Count][];
        Values = new byte[Count][];
        for (var i = 0; i < Count; i++)
        {
            Names[i] = Encoding.ASCII.GetBytes(entries[i].Name);
            Values[i] = Encoding.ASCII.GetBytes(entries[i].Value);
            NameIndices.TryAdd(entries[i].Name, i + 1);
        }
    }

    /// <summary>Name of static entry <paramref name="index"/> (1..61).</summary>
    public static ReadOnlySpan<byte> Name(int index) => Names[index - 1];

    /// <summary>Value of static entry <paramref name="index"/> (1..61).</summary>
    public static ReadOnlySpan<byte> Value(int index) => Values[index - 1];

    /// <summary>The lowest static index whose name is <paramref name="name"/> (ordinal), or 0 when none.</summary>
    public static int IndexOfName(string name) => NameIndices.GetValueOrDefault(name);
}
