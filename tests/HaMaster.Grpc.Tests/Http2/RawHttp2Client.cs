using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using HaMaster.Grpc.Http2;
using HaMaster.Grpc.Http2.Hpack;

namespace HaMaster.Grpc.Tests.Http2;

/// <summary>
/// A test-only HTTP/2 client over a raw socket on 127.0.0.1: it writes exactly the frames a test
/// asks for (valid or not) and reads frames one by one. Every read is bounded by
/// <see cref="ReadTimeout"/>, so a server that stays silent fails the test instead of hanging it.
/// Not thread-safe: one test drives it.
/// </summary>
internal sealed partial class RawHttp2Client : IAsyncDisposable
{
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);
    public static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly HpackDecoder _decoder = new(4096, 1 << 20);
    private int _maxFrameSize = Http2FrameHeader.DefaultMaxFrameSize;

    private RawHttp2Client(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>The server's SETTINGS as received during <see cref="HandshakeAsync"/>.</summary>
    public Dictionary<ushort, uint> ServerSettings { get; } = [];

    /// <summary>Connection WINDOW_UPDATE increments received during the handshake.</summary>
    public long ServerConnectionWindowIncrement { get; private set; }

    public static async Task<RawHttp2Client> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var timeout = new CancellationTokenSource(ReadTimeout);
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
            return new RawHttp2Client(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Connects, sends preface + SETTINGS, and reads until the server's SETTINGS and the ACK of ours arrived; ACKs theirs.</summary>
    public static async Task<RawHttp2Client> ConnectAndHandshakeAsync(int port, params (ushort Id, uint Value)[] settings)
    {
        var client = await ConnectAsync(port);
        try
        {
            await client.HandshakeAsync(settings);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    public async Task HandshakeAsync(params (ushort Id, uint Value)[] settings)
    {
        await WriteRawAsync(Preface.ToArray());
        await WriteSettingsAsync(settings);
        foreach (var (id, value) in settings)
        {
            if (id == Http2SettingId.MaxFrameSize)
            {
                _maxFrameSize = (int)value;
            }
        }
        bool sawSettings = false, sawAck = false;
        for (var i = 0; i < 16 && !(sawSettings && sawAck); i++)
        {
            var frame = await ReadFrameAsync() ?? throw new IOException("The server closed the connection during the handshake.");
            switch (frame.Type)
            {
                case Http2FrameType.Settings when frame.Has(Http2Flags.Ack):
                    sawAck = true;
                    break;
                case Http2FrameType.Settings:
                    Assert.False(sawSettings, "the server sent a second SETTINGS frame during the handshake");
                    sawSettings = true;
                    for (var offset = 0; offset + 6 <= frame.Payload.Length; offset += 6)
                    {
                        ServerSettings[BinaryPrimitives.ReadUInt16BigEndian(frame.Payload.AsSpan(offset))] =
                            BinaryPrimitives.ReadUInt32BigEndian(frame.Payload.AsSpan(offset + 2));
                    }

                    await WriteFrameAsync(Http2FrameType.Settings, Http2Flags.Ack, 0, []);
                    break;
                case Http2FrameType.WindowUpdate when frame.StreamId == 0:
                    ServerConnectionWindowIncrement += frame.WindowIncrement;
                    break;
                default:
                    Assert.Fail($"unexpected {frame} during the handshake");
                    break;
            }
        }

        Assert.True(sawSettings && sawAck, "handshake did not complete within 16 frames");
    }

    // ---- writing ----

    public async Task WriteRawAsync(byte[] bytes)
    {
        using var timeout = new CancellationTokenSource(ReadTimeout);
        await _stream.WriteAsync(bytes, timeout.Token);
    }

    public static byte[] BuildFrame(Http2FrameType type, byte flags, int streamId, ReadOnlySpan<byte> payload, int? declaredLength = null)
    {
        var frame = new byte[Http2FrameHeader.Size + payload.Length];
        Http2FrameHeader.Write(frame, declaredLength ?? payload.Length, type, flags, streamId);
        payload.CopyTo(frame.AsSpan(Http2FrameHeader.Size));
        return frame;
    }

    public Task WriteFrameAsync(Http2FrameType type, byte flags, int streamId, ReadOnlySpan<byte> payload) =>
        WriteRawAsync(BuildFrame(type, flags, streamId, payload));

    public Task WriteSettingsAsync(params (ushort Id, uint Value)[] settings)
    {
        var payload = new byte[settings.Length * 6];
        for (var i = 0; i < settings.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(i * 6), settings[i].Id);
            BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan((i * 6) + 2), settings[i].Value);
        }

        return WriteFrameAsync(Http2FrameType.Settings, 0, 0, payload);
    }

    public Task WritePingAsync(ulong opaque)
    {
        var payload = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(payload, opaque);
        return WriteFrameAsync(Http2FrameType.Ping, 0, 0, payload);
    }

    public Task WriteWindowUpdateAsync(int streamId, int increment)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)increment);
        return WriteFrameAsync(Http2FrameType.WindowUpdate, 0, streamId, payload);
    }

    public Task WriteRstStreamAsync(int streamId, Http2ErrorCode code)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)code);
        return WriteFrameAsync(Http2FrameType.RstStream, 0, streamId, payload);
    }

    /// <summary>Encodes a header block with HPACK literal fields (no dynamic table).</summary>
    public static byte[] EncodeHeaders(IEnumerable<(string Name, string Value)> fields)
    {
        var list = fields.ToList();
        var size = list.Sum(f => HpackEncoder.MaxEncodedLength(f.Name, f.Value));
        var block = new byte[size];
        var length = 0;
        foreach (var (name, value) in list)
        {
            var written = HpackEncoder.WriteHeader(name, value, block.AsSpan(length));
            Assert.True(written >= 0, $"HpackEncoder could not write {name}");
            length += written;
        }

        return block[..length];
    }

    /// <summary>The header fields of a gRPC request for <paramref name="path"/>, then <paramref name="metadata"/>.</summary>
    public static List<(string Name, string Value)> GrpcRequestFields(string path, params (string Name, string Value)[] metadata)
    {
        List<(string, string)> fields =
        [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", path),
            (":authority", "127.0.0.1"),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
        ];
        fields.AddRange(metadata);
        return fields;
    }

    /// <summary>Sends a header block as HEADERS (+ CONTINUATION frames of at most <paramref name="maxFragment"/> bytes).</summary>
    public async Task WriteHeadersAsync(int streamId, byte[] block, bool endStream, int maxFragment = Http2FrameHeader.DefaultMaxFrameSize)
    {
        var offset = 0;
        var first = true;
        do
        {
            var chunk = Math.Min(maxFragment, block.Length - offset);
            var last = offset + chunk == block.Length;
            byte flags = last ? Http2Flags.EndHeaders : (byte)0;
            if (first && endStream)
            {
                flags |= Http2Flags.EndStream;
            }

            await WriteFrameAsync(first ? Http2FrameType.Headers : Http2FrameType.Continuation, flags, streamId, block.AsSpan(offset, chunk));
            offset += chunk;
            first = false;
        }
        while (offset < block.Length);
    }

    /// <summary>Sends <paramref name="data"/> as DATA frames of at most 16384 bytes.</summary>
    public async Task WriteDataAsync(int streamId, ReadOnlyMemory<byte> data, bool endStream)
    {
        var offset = 0;
        do
        {
            var chunk = Math.Min(Http2FrameHeader.DefaultMaxFrameSize, data.Length - offset);
            var last = offset + chunk == data.Length;
            await WriteFrameAsync(Http2FrameType.Data, last && endStream ? Http2Flags.EndStream : (byte)0, streamId, data.Span.Slice(offset, chunk));
            offset += chunk;
        }
        while (offset < data.Length);
    }

    /// <summary>A complete gRPC request: HEADERS, then one DATA frame holding the length-prefixed message with END_STREAM.</summary>
    public async Task SendGrpcRequestAsync(int streamId, string path, byte[] message, params (string Name, string Value)[] metadata)
    {
        await WriteHeadersAsync(streamId, EncodeHeaders(GrpcRequestFields(path, metadata)), endStream: false);
        await WriteDataAsync(streamId, GrpcFrame(message), endStream: true);
    }

    /// <summary>The 5-byte gRPC prefix (uncompressed) followed by the message.</summary>
    public static byte[] GrpcFrame(ReadOnlySpan<byte> message)
    {
        var frame = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
        message.CopyTo(frame.AsSpan(5));
        return frame;
    }

    /// <summary>Splits a gRPC response body into its messages, checking each prefix.</summary>
    public static List<byte[]> GrpcMessages(byte[] body)
    {
        var messages = new List<byte[]>();
        var offset = 0;
        while (offset < body.Length)
        {
            Assert.True(body.Length - offset >= 5, "truncated gRPC message prefix");
            Assert.Equal(0, body[offset]);
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(offset + 1));
            Assert.True(body.Length - offset - 5 >= length, "truncated gRPC message");
            messages.Add(body.AsSpan(offset + 5, length).ToArray());
            offset += 5 + length;
        }

        return messages;
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _socket.Dispose();
    }
}
