using System.Buffers.Binary;
using System.Text;
using HaMaster.Grpc.Http2;

namespace HaMaster.Grpc.Tests.Http2;

/// <summary>One HTTP/2 frame as read off the wire.</summary>
internal sealed record RawFrame(Http2FrameType Type, byte Flags, int StreamId, byte[] Payload)
{
    public bool Has(byte flag) => (Flags & flag) != 0;

    public uint ErrorCode => Type switch
    {
        Http2FrameType.RstStream => BinaryPrimitives.ReadUInt32BigEndian(Payload),
        Http2FrameType.GoAway => BinaryPrimitives.ReadUInt32BigEndian(Payload.AsSpan(4)),
        _ => throw new InvalidOperationException($"{Type} carries no error code"),
    };

    /// <summary>The debug data of a GOAWAY, as text.</summary>
    public string DebugText => Type == Http2FrameType.GoAway ? Encoding.UTF8.GetString(Payload.AsSpan(8)) : string.Empty;

    public int WindowIncrement => (int)(BinaryPrimitives.ReadUInt32BigEndian(Payload) & 0x7FFF_FFFF);

    public override string ToString() => $"{Type}(flags=0x{Flags:x2}, stream={StreamId}, length={Payload.Length})";
}

/// <summary>What the server sent on one stream: header fields, DATA bytes, trailer fields, every frame in order.</summary>
internal sealed class RawResponse
{
    public List<(string Name, string Value)>? Headers { get; set; }

    public List<(string Name, string Value)>? Trailers { get; set; }

    public MemoryStream Data { get; } = new();

    public List<RawFrame> Frames { get; } = [];

    public uint? ResetCode { get; set; }

    /// <summary>The value of <paramref name="name"/> in the trailers, or in the headers of a trailers-only response.</summary>
    public string? Trailer(string name) => RawHttp2Client.FindField(Trailers ?? Headers, name);

    public string? Header(string name) => RawHttp2Client.FindField(Headers, name);
}
