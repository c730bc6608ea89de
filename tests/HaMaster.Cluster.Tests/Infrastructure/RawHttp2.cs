using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace HaMaster.Cluster.Tests.Infrastructure;

/// <summary>
/// A minimal HTTP/2 client that writes frames by hand (cleartext, prior knowledge): one request
/// with arbitrary header bytes, the way a hostile client would send them (HttpClient refuses
/// NUL, CR and LF in header values). Headers are HPACK literals without indexing and without
/// Huffman coding; the answer is classified by the first frame that settles stream 1.
/// </summary>
internal static class RawHttp2
{
    private const byte Data = 0x0, Headers = 0x1, RstStream = 0x3, Settings = 0x4, Ping = 0x6, GoAway = 0x7;
    private const byte EndStream = 0x1, EndHeaders = 0x4, Ack = 0x1;

    /// <summary>What ended stream 1: the server's response headers, a stream reset or a connection error (with its HTTP/2 error code), or a closed connection.</summary>
    public enum Outcome
    {
        ResponseHeaders,
        StreamReset,
        ConnectionError,
        Closed,
    }

    /// <summary>Sends one POST with <paramref name="headers"/> (raw values, byte for byte as Latin-1) and a body; returns how stream 1 ended within 10 s.</summary>
    public static async Task<(Outcome Outcome, uint ErrorCode)> SendAsync(string hostPort, string path, byte[] body, params (string Name, string Value)[] headers)
    {
        var colon = hostPort.LastIndexOf(':');
        using var tcp = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await tcp.ConnectAsync(hostPort[..colon], int.Parse(hostPort[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture), timeout.Token);
        var stream = tcp.GetStream();

        var block = new List<byte>();
        foreach (var (name, value) in new[] { (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", hostPort), ("content-type", "application/grpc"), ("te", "trailers") }.Concat(headers))
        {
            block.Add(0x00); // literal header field without indexing, new name
            AddString(block, Encoding.Latin1.GetBytes(name));
            AddString(block, Encoding.Latin1.GetBytes(value));
        }

        var output = new List<byte>();
        output.AddRange("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
        AddFrame(output, Settings, 0, 0, []);
        AddFrame(output, Headers, EndHeaders, 1, [.. block]);
        AddFrame(output, Data, EndStream, 1, body);
        await stream.WriteAsync(output.ToArray(), timeout.Token);

        var header = new byte[9];
        try
        {
            for (var frames = 0; frames < 1000; frames++)
            {
                await stream.ReadExactlyAsync(header, timeout.Token);
                var length = (header[0] << 16) | (header[1] << 8) | header[2];
                var type = header[3];
                var flags = header[4];
                var streamId = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(5)) & 0x7FFFFFFF;
                var payload = new byte[length];
                await stream.ReadExactlyAsync(payload, timeout.Token);
                switch (type)
                {
                    case Settings when (flags & Ack) == 0:
                        await WriteFrameAsync(stream, Settings, Ack, 0, [], timeout.Token);
                        break;
                    case Ping when (flags & Ack) == 0:
                        await WriteFrameAsync(stream, Ping, Ack, 0, payload, timeout.Token);
                        break;
                    case Headers when streamId == 1:
                        return (Outcome.ResponseHeaders, 0);
                    case RstStream when streamId == 1:
                        return (Outcome.StreamReset, BinaryPrimitives.ReadUInt32BigEndian(payload));
                    case GoAway:
                        return (Outcome.ConnectionError, BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(4)));
                }
            }
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            return (Outcome.Closed, 0);
        }

        throw new InvalidOperationException("no answer to stream 1 within 1000 frames");
    }

    private static async Task WriteFrameAsync(NetworkStream stream, byte type, byte flags, uint streamId, byte[] payload, CancellationToken cancellationToken)
    {
        var frame = new List<byte>();
        AddFrame(frame, type, flags, streamId, payload);
        await stream.WriteAsync(frame.ToArray(), cancellationToken);
    }

    private static void AddFrame(List<byte> output, byte type, byte flags, uint streamId, byte[] payload)
    {
        output.Add((byte)(payload.Length >> 16));
        output.Add((byte)(payload.Length >> 8));
        output.Add((byte)payload.Length);
        output.Add(type);
        output.Add(flags);
        var id = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(id, streamId);
        output.AddRange(id);
        output.AddRange(payload);
    }

    /// <summary>An HPACK string literal (RFC 7541 5.2), not Huffman-coded: 7-bit prefix length, then the bytes.</summary>
    private static void AddString(List<byte> output, byte[] value)
    {
        var length = value.Length;
        if (length < 127)
        {
            output.Add((byte)length);
        }
        else
        {
            output.Add(127);
            length -= 127;
            while (length >= 128)
            {
                output.Add((byte)((length & 0x7F) | 0x80));
                length >>= 7;
            }

            output.Add((byte)length);
        }

        output.AddRange(value);
    }
}
