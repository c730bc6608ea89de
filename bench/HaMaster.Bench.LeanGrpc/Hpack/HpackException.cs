namespace HaMaster.Bench.LeanGrpc.Hpack;

/// <summary>
/// A malformed header block (RFC 7541). The decoder's state is unusable afterwards: the HTTP/2
/// connection must end with COMPRESSION_ERROR (RFC 9113 section 4.3).
/// </summary>
internal sealed class HpackException : Exception
{
    public HpackException(string message)
        : base(message)
    {
    }
}
