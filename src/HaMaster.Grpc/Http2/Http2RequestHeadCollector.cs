using System.Text;
using HaMaster.Grpc.Http2.Hpack;
using Microsoft.AspNetCore.Http;

namespace HaMaster.Grpc.Http2;

/// <summary>
/// Collects one decoded request header block: pseudo-headers, regular fields, the list size, and
/// the first reason the block is malformed (RFC 9113 8.3). Reused by the connection's read loop.
/// </summary>
internal sealed class Http2RequestHeadCollector : IHpackHeaderSink
{
    // Names clients send on every call: interned so a request does not allocate them.
    private static readonly string[] CommonNames =
    [
        "content-type", "te", "user-agent", "grpc-timeout", "grpc-accept-encoding", "grpc-encoding", "accept-encoding",
    ];

    private static readonly string[] CommonValues = ["application/grpc", "trailers", "POST", "http", "https", "identity", "identity,gzip", "identity,deflate,gzip"];

    private readonly int _maxListBytes;
    private bool _sawRegular;
    private HeaderDictionary? _headers;

    public Http2RequestHeadCollector(int maxListBytes) => _maxListBytes = maxListBytes;

    public string? Method { get; private set; }

    public string? Scheme { get; private set; }

    public string? Path { get; private set; }

    public string? Authority { get; private set; }

    /// <summary>The regular fields; a new dictionary per block (the stream keeps it).</summary>
    public HeaderDictionary Headers => _headers ??= new HeaderDictionary();

    /// <summary>RFC 9113 size of the list (name + value + 32 per field).</summary>
    public int ListBytes { get; private set; }

    /// <summary>Why the block cannot be a request, or null.</summary>
    public string? Malformed { get; private set; }

    public bool TooLarge => ListBytes > _maxListBytes;

    /// <summary>
    /// Starts a new block, and forgets the previous one: the collector lives as long as the
    /// connection, and a client that calls every few seconds must not find its last request's
    /// fields kept alive (and promoted by the collector) until its next one.
    /// </summary>
    public void Reset()
    {
        Method = Scheme = Path = Authority = null;
        _headers = null;
        ListBytes = 0;
        Malformed = null;
        _sawRegular = false;
    }

    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        ListBytes += name.Length + value.Length + 32;
        if (Malformed is not null || TooLarge)
        {
            return;
        }

        if (name.Length == 0)
        {
            Malformed = "empty header name";
            return;
        }

        if (name[0] == (byte)':')
        {
            if (_sawRegular)
            {
                Malformed = "pseudo-header after a regular header";
                return;
            }

            var text = Intern(value);
            switch (Encoding.ASCII.GetString(name))
            {
                case ":method" when Method is null: Method = text; break;
                case ":scheme" when Scheme is null: Scheme = text; break;
                case ":path" when Path is null: Path = text; break;
                case ":authority" when Authority is null: Authority = text; break;
                default: Malformed = $"unknown or repeated pseudo-header {Encoding.ASCII.GetString(name)}"; break;
            }

            return;
        }

        _sawRegular = true;
        foreach (var b in name)
        {
            if (b is >= (byte)'A' and <= (byte)'Z')
            {
                Malformed = "upper-case header name";
                return;
            }
        }

        var key = InternName(name);
        if (key is "connection" or "keep-alive" or "proxy-connection" or "transfer-encoding" or "upgrade")
        {
            Malformed = $"connection-specific header {key}";
            return;
        }

        Headers.Append(key, Intern(value));
    }

    private static string InternName(ReadOnlySpan<byte> name)
    {
        foreach (var common in CommonNames)
        {
            if (Matches(name, common))
            {
                return common;
            }
        }

        return Encoding.Latin1.GetString(name);
    }

    private static string Intern(ReadOnlySpan<byte> value)
    {
        foreach (var common in CommonValues)
        {
            if (Matches(value, common))
            {
                return common;
            }
        }

        return Encoding.Latin1.GetString(value);
    }

    private static bool Matches(ReadOnlySpan<byte> bytes, string text)
    {
        if (bytes.Length != text.Length)
        {
            return false;
        }

        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != text[i])
            {
                return false;
            }
        }

        return true;
    }
}
