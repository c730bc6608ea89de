namespace HaMaster.Bench.LeanGrpc.Hpack;

/// <summary>Receives the fields of a header block from <see cref="HpackDecoder.Decode"/>, in block order.</summary>
internal interface IHpackHeaderSink
{
    /// <summary>
    /// One decoded field. The spans point into the input block, the decoder's scratch buffers or its
    /// dynamic table, so they are only valid during this call: copy what must outlive it.
    /// </summary>
    void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value);
}
