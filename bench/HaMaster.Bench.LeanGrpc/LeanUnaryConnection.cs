using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using HaMaster.Bench.LeanGrpc.Hpack;

namespace HaMaster.Bench.LeanGrpc;

/// <summary>
/// One cleartext HTTP/2 connection for unary calls made one after another: no connection pool,
/// no timers, no background read, no buffer held between calls, so a load generator can keep tens
/// of thousands of them open (as many simulated clients) without its own garbage collector
/// distorting the latencies it measures (10,000 Grpc.Net.Client channels in one process spent most of
/// a run in GC pauses). Applications use Grpc.Net.Client's GrpcChannel.
/// Contract: one call at a time (a concurrent call throws); a call that fails on the transport or
/// times out drops the connection and the next call reconnects.
/// </summary>
public sealed class LeanUnaryConnection : IDisposable
{
    private const int StreamWindow = 1 << 20;
    private const int ConnectionWindow = 16 << 20;

    private readonly EndPoint _endPoint;
    private readonly string _authority;
    private readonly ResponseFields _fields = new();
    private Socket? _socket;
    private HpackDecoder _decoder = new();
    private int _nextStreamId = 1;
    private int _unackedConnectionBytes;
    private int _busy;

    // The server sent GOAWAY covering the call under way: finish it, then open a new connection.
    private bool _closeAfterCall;

    public LeanUnaryConnection(string host, int port)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        _endPoint = IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port);
        _authority = host + ":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Largest response message accepted (default 4 MiB).</summary>
    public int MaxReceiveMessageBytes { get; init; } = GrpcWire.DefaultMaxMessageBytes;

    public bool IsConnected => _socket is not null;

    /// <summary>Opens the connection now (otherwise the first call does).</summary>
    public async ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        if (_socket is not null)
        {
            return;
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(_endPoint, cancellationToken).ConfigureAwait(false);
            var hello = new byte[Http2FrameHeader.Preface.Length + Http2FrameHeader.Size + 12 + Http2FrameHeader.Size + 4];
            Http2FrameHeader.Preface.CopyTo(hello);
            var p = hello.AsSpan(Http2FrameHeader.Preface.Length);
            Http2FrameHeader.Write(p, 12, Http2FrameType.Settings, 0, 0);
            BinaryPrimitives.WriteUInt16BigEndian(p[9..], Http2SettingId.EnablePush);
            BinaryPrimitives.WriteUInt32BigEndian(p[11..], 0);
            BinaryPrimitives.WriteUInt16BigEndian(p[15..], Http2SettingId.InitialWindowSize);
            BinaryPrimitives.WriteUInt32BigEndian(p[17..], StreamWindow);
            Http2FrameHeader.WriteWindowUpdate(p[21..], 0, ConnectionWindow - Http2FrameHeader.DefaultWindow);
            await SendAllAsync(socket, hello, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _socket = socket;
        _closeAfterCall = false;
        _decoder = new HpackDecoder();
        _nextStreamId = 1;
        _unackedConnectionBytes = 0;
    }

    /// <summary>
    /// Calls <paramref name="method"/> ("/package.Service/Method") with a deadline of
    /// <paramref name="timeout"/> (sent as grpc-timeout and enforced here). Throws
    /// <see cref="RpcException"/> for a non-OK status, a timeout (DEADLINE_EXCEEDED) or a broken
    /// connection (UNAVAILABLE).
    /// </summary>
    public async ValueTask<TResponse> UnaryAsync<TRequest, TResponse>(string method, TRequest request, MessageParser<TResponse> parser, TimeSpan timeout, CancellationToken cancellationToken = default)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(parser);
        if (Interlocked.Exchange(ref _busy, 1) != 0)
        {
            throw new InvalidOperationException("LeanUnaryConnection runs one call at a time.");
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        byte[]? buffer = null;
        try
        {
            await ConnectAsync(deadline.Token).ConfigureAwait(false);
            var socket = _socket!;
            var streamId = _nextStreamId;
            _nextStreamId += 2;
            buffer = ArrayPool<byte>.Shared.Rent(Math.Max(Http2FrameHeader.DefaultMaxFrameSize + Http2FrameHeader.Size, 1024 + method.Length + request.CalculateSize()));
            var length = WriteRequest(buffer, streamId, method, request, timeout);
            await SendAllAsync(socket, buffer.AsMemory(0, length), deadline.Token).ConfigureAwait(false);
            return await ReadResponseAsync(socket, streamId, buffer, parser, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Drop();
            throw Fail(StatusCode.DeadlineExceeded, "Deadline exceeded");
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException)
        {
            Drop();
            throw Fail(StatusCode.Unavailable, "Connection failed: " + ex.Message);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            Drop();
            throw;
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            // A GOAWAY seen during the call (whatever its outcome), or stream ids running out: the
            // next call opens a new connection.
            if (_closeAfterCall || _nextStreamId > int.MaxValue / 2)
            {
                Drop();
            }

            Volatile.Write(ref _busy, 0);
        }
    }

    public void Dispose() => Drop();

    private static RpcException Fail(StatusCode code, string detail) => new(new Status(code, detail));

    private void Drop()
    {
        _socket?.Dispose();
        _socket = null;
    }

    private int WriteRequest<TRequest>(byte[] buffer, int streamId, string method, TRequest request, TimeSpan timeout)
        where TRequest : IMessage<TRequest>
    {
        var span = buffer.AsSpan();
        var block = span[Http2FrameHeader.Size..];
        var n = 0;
        n += Field(block[n..], ":method", "POST");
        n += Field(block[n..], ":scheme", "http");
        n += Field(block[n..], ":path", method);
        n += Field(block[n..], ":authority", _authority);
        n += Field(block[n..], "content-type", "application/grpc");
        n += Field(block[n..], "te", "trailers");
        n += Field(block[n..], "grpc-timeout", GrpcWire.FormatTimeout(timeout));
        Http2FrameHeader.Write(span, n, Http2FrameType.Headers, Http2Flags.EndHeaders, streamId);
        var offset = Http2FrameHeader.Size + n;
        var size = request.CalculateSize();
        var body = GrpcWire.MessagePrefixLength + size;
        if (body > Http2FrameHeader.DefaultMaxFrameSize)
        {
            throw Fail(StatusCode.ResourceExhausted, $"Request of {size} bytes is larger than this connection sends in one frame ({Http2FrameHeader.DefaultMaxFrameSize - GrpcWire.MessagePrefixLength}).");
        }

        Http2FrameHeader.Write(span[offset..], body, Http2FrameType.Data, Http2Flags.EndStream, streamId);
        offset += Http2FrameHeader.Size;
        GrpcWire.WritePrefixAndBody(span[offset..], request, size);
        return offset + body;
    }

    private static int Field(Span<byte> destination, string name, string value)
    {
        var written = HpackEncoder.WriteHeader(name, value, destination);
        return written >= 0 ? written : throw Fail(StatusCode.ResourceExhausted, "Request headers too large.");
    }

    private async ValueTask<TResponse> ReadResponseAsync<TResponse>(Socket socket, int streamId, byte[] buffer, MessageParser<TResponse> parser, CancellationToken cancellationToken)
        where TResponse : IMessage<TResponse>
    {
        var start = 0;
        var end = 0;
        var headerBlock = new ArrayBufferWriter<byte>(256);
        var message = new ArrayBufferWriter<byte>(256);
        var sawHeaders = false;
        var headersEndStream = false;
        var streamBytes = 0;
        _fields.Clear();
        while (true)
        {
            // Parse every whole frame in the buffer.
            while (end - start >= Http2FrameHeader.Size)
            {
                var header = Http2FrameHeader.Read(buffer.AsSpan(start));
                if (header.Length > Http2FrameHeader.DefaultMaxFrameSize)
                {
                    throw new IOException($"Server sent a {header.Length}-byte frame, over the 16384 this client allows.");
                }

                if (end - start < Http2FrameHeader.Size + header.Length)
                {
                    break;
                }

                var payload = buffer.AsSpan(start + Http2FrameHeader.Size, header.Length);
                start += Http2FrameHeader.Size + header.Length;
                switch (header.Type)
                {
                    case Http2FrameType.Settings when !header.HasFlag(Http2Flags.Ack):
                        await SendControlAsync(socket, Http2FrameType.Settings, Http2Flags.Ack, default, cancellationToken).ConfigureAwait(false);
                        break;
                    case Http2FrameType.Ping when !header.HasFlag(Http2Flags.Ack):
                        await SendControlAsync(socket, Http2FrameType.Ping, Http2Flags.Ack, BinaryPrimitives.ReadUInt64BigEndian(payload), cancellationToken).ConfigureAwait(false);
                        break;
                    case Http2FrameType.GoAway:
                        var last = (int)(BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7FFF_FFFF);
                        if (last < streamId)
                        {
                            Drop();
                            throw Fail(StatusCode.Unavailable, "The server is closing the connection (GOAWAY) before this call.");
                        }

                        // The server promised to finish this call: read it to the end, then reconnect.
                        _closeAfterCall = true;
                        break;
                    case Http2FrameType.RstStream when header.StreamId == streamId:
                        throw Fail(StatusCode.Unavailable, $"The server reset the stream (HTTP/2 error {BinaryPrimitives.ReadUInt32BigEndian(payload)}).");
                    case Http2FrameType.Headers or Http2FrameType.Continuation when header.StreamId == streamId:
                        if (header.Type == Http2FrameType.Headers)
                        {
                            // END_STREAM rides on HEADERS; the block may continue in CONTINUATION frames.
                            headersEndStream = header.HasFlag(Http2Flags.EndStream);
                            headerBlock.Write(StripHeadersPadding(header, payload));
                        }
                        else
                        {
                            headerBlock.Write(payload);
                        }

                        if (header.HasFlag(Http2Flags.EndHeaders))
                        {
                            _fields.Trailers = sawHeaders;
                            _decoder.Decode(headerBlock.WrittenSpan, _fields);
                            headerBlock.ResetWrittenCount();
                            sawHeaders = true;
                            if (headersEndStream)
                            {
                                return Finish(message, parser);
                            }
                        }

                        break;
                    case Http2FrameType.Data when header.StreamId == streamId:
                        var data = header.HasFlag(Http2Flags.Padded) ? payload.Slice(1, payload.Length - 1 - payload[0]) : payload;
                        message.Write(data);
                        if (message.WrittenCount > MaxReceiveMessageBytes + GrpcWire.MessagePrefixLength)
                        {
                            Drop();
                            throw Fail(StatusCode.ResourceExhausted, $"Response larger than {MaxReceiveMessageBytes} bytes.");
                        }

                        streamBytes += header.Length;
                        await CreditAsync(socket, streamId, header.Length, ref streamBytes, header.HasFlag(Http2Flags.EndStream), cancellationToken).ConfigureAwait(false);
                        if (header.HasFlag(Http2Flags.EndStream))
                        {
                            return Finish(message, parser);
                        }

                        break;
                    default:
                        // WINDOW_UPDATE (requests are small), SETTINGS ACK, PING ACK, PRIORITY, unknown: nothing to do.
                        break;
                }
            }

            if (start > 0)
            {
                buffer.AsSpan(start, end - start).CopyTo(buffer);
                end -= start;
                start = 0;
            }

            var read = await socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException("The server closed the connection.");
            }

            end += read;
        }
    }

    private TResponse Finish<TResponse>(ArrayBufferWriter<byte> body, MessageParser<TResponse> parser)
        where TResponse : IMessage<TResponse>
    {
        if (_fields.HttpStatus != 200)
        {
            throw Fail(StatusCode.Internal, $"HTTP status {_fields.HttpStatus} from the server.");
        }

        if (_fields.GrpcStatus is not { } status)
        {
            throw Fail(StatusCode.Internal, "The response ended without grpc-status.");
        }

        if (status != 0)
        {
            throw Fail((StatusCode)status, GrpcWire.DecodeMessage(_fields.GrpcMessage));
        }

        var bytes = body.WrittenSpan;
        if (bytes.Length < GrpcWire.MessagePrefixLength || bytes[0] != 0 || BinaryPrimitives.ReadUInt32BigEndian(bytes[1..]) != bytes.Length - GrpcWire.MessagePrefixLength)
        {
            throw Fail(StatusCode.Internal, "The response is not exactly one uncompressed message.");
        }

        return parser.ParseFrom(bytes[GrpcWire.MessagePrefixLength..]);
    }

    private ValueTask CreditAsync(Socket socket, int streamId, int bytes, ref int streamBytes, bool ended, CancellationToken cancellationToken)
    {
        _unackedConnectionBytes += bytes;
        var connectionCredit = 0;
        var streamCredit = 0;
        if (_unackedConnectionBytes >= ConnectionWindow / 2)
        {
            connectionCredit = _unackedConnectionBytes;
            _unackedConnectionBytes = 0;
        }

        if (!ended && streamBytes >= StreamWindow / 2)
        {
            streamCredit = streamBytes;
            streamBytes = 0;
        }

        if (connectionCredit == 0 && streamCredit == 0)
        {
            return ValueTask.CompletedTask;
        }

        var frames = new byte[2 * (Http2FrameHeader.Size + 4)];
        var length = 0;
        if (connectionCredit > 0)
        {
            Http2FrameHeader.WriteWindowUpdate(frames, 0, connectionCredit);
            length += Http2FrameHeader.Size + 4;
        }

        if (streamCredit > 0)
        {
            Http2FrameHeader.WriteWindowUpdate(frames.AsSpan(length), streamId, streamCredit);
            length += Http2FrameHeader.Size + 4;
        }

        return SendAllAsync(socket, frames.AsMemory(0, length), cancellationToken);
    }

    private static ReadOnlySpan<byte> StripHeadersPadding(in Http2FrameHeader header, ReadOnlySpan<byte> payload)
    {
        var padding = 0;
        if (header.HasFlag(Http2Flags.Padded))
        {
            padding = payload[0];
            payload = payload[1..];
        }

        if (header.HasFlag(Http2Flags.Priority))
        {
            payload = payload[5..];
        }

        return payload[..^padding];
    }

    private static ValueTask SendControlAsync(Socket socket, Http2FrameType type, byte flags, ulong ping, CancellationToken cancellationToken)
    {
        var length = type == Http2FrameType.Ping ? 8 : 0;
        var frame = new byte[Http2FrameHeader.Size + length];
        Http2FrameHeader.Write(frame, length, type, flags, 0);
        if (length > 0)
        {
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(Http2FrameHeader.Size), ping);
        }

        return SendAllAsync(socket, frame, cancellationToken);
    }

    private static async ValueTask SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (data.Length > 0)
        {
            var sent = await socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    /// <summary>The response fields a unary call needs: :status, grpc-status, grpc-message.</summary>
    private sealed class ResponseFields : IHpackHeaderSink
    {
        public int HttpStatus { get; private set; }

        public int? GrpcStatus { get; private set; }

        public string? GrpcMessage { get; private set; }

        public bool Trailers { get; set; }

        public void Clear()
        {
            HttpStatus = 0;
            GrpcStatus = null;
            GrpcMessage = null;
        }

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
            if (name.SequenceEqual(":status"u8))
            {
                HttpStatus = ParseInt(value) ?? 0;
            }
            else if (name.SequenceEqual("grpc-status"u8))
            {
                GrpcStatus = ParseInt(value) ?? (int)StatusCode.Unknown;
            }
            else if (name.SequenceEqual("grpc-message"u8))
            {
                GrpcMessage = Encoding.UTF8.GetString(value);
            }
        }

        private static int? ParseInt(ReadOnlySpan<byte> value) =>
            System.Buffers.Text.Utf8Parser.TryParse(value, out int parsed, out var consumed) && consumed == value.Length ? parsed : null;
    }
}
