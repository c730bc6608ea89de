using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HaMaster.Chaos.Overload;

/// <summary>
/// A deliberately small HTTP/2 client (RFC 9113) over cleartext TCP with prior knowledge, for
/// abusing a master's client port in ways a real gRPC client never would: streams reset right
/// after they open, messages announced large and left half-sent. It writes frames itself,
/// encodes headers as HPACK literals (no table, no Huffman), answers SETTINGS and PING, and
/// follows flow control only as far as it must to stay a valid peer. Sends are serialized by
/// the caller (one writer task per connection); a background task reads the server's frames.
/// </summary>
internal sealed class Http2Wire : IAsyncDisposable
{
    public const byte Data = 0x0, Headers = 0x1, RstStream = 0x3, Settings = 0x4, Ping = 0x6, GoAway = 0x7, WindowUpdate = 0x8;
    public const byte EndStream = 0x1, EndHeaders = 0x4, Ack = 0x1;
    public const int MaxFrame = 16384;

    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly Task _reader;
    private readonly CancellationTokenSource _closed = new();
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private readonly Lock _windows = new();
    private readonly Dictionary<int, long> _streamWindows = [];
    private long _connectionWindow = 65535;
    private long _initialStreamWindow = 65535;
    private TaskCompletionSource _windowOpened = NewSignal();
    private int _nextStream = 1;
    private long _dataBytesSent;

    private Http2Wire(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _reader = Task.Run(ReadLoopAsync);
    }

    /// <summary>Set when the server sent GOAWAY or the connection broke.</summary>
    public CancellationToken Closed => _closed.Token;

    public bool IsClosed => _closed.IsCancellationRequested;

    /// <summary>GOAWAY frames received (Kestrel sends one before closing an abusive connection).</summary>
    public int GoAways { get; private set; }

    /// <summary>DATA payload bytes sent by <see cref="SendDataAsync"/> so far.</summary>
    public long DataBytesSent => Interlocked.Read(ref _dataBytesSent);

    /// <summary>RST_STREAM frames received from the server.</summary>
    public int ServerResets { get; private set; }

    public static async Task<Http2Wire> ConnectAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var wire = new Http2Wire(socket);
        var hello = new byte[Preface.Length + 9];
        Preface.CopyTo(hello, 0);
        WriteFrameHeader(hello.AsSpan(Preface.Length), 0, Settings, 0, 0);
        await wire.SendAsync(hello, cancellationToken);
        return wire;
    }

    /// <summary>A new client stream id (odd, increasing).</summary>
    public int NextStreamId(bool trackWindow = true)
    {
        var id = _nextStream;
        _nextStream += 2;
        if (!trackWindow) return id;
        lock (_windows)
        {
            _streamWindows[id] = _initialStreamWindow;
        }

        return id;
    }

    /// <summary>Appends a HEADERS frame opening a gRPC call of <paramref name="path"/> on <paramref name="streamId"/>.</summary>
    public static void AppendHeaders(List<byte> frames, int streamId, string authority, string path, bool endStream)
    {
        var block = new List<byte>(128);
        Literal(block, ":method", "POST");
        Literal(block, ":scheme", "http");
        Literal(block, ":path", path);
        Literal(block, ":authority", authority);
        Literal(block, "content-type", "application/grpc");
        Literal(block, "te", "trailers");
        AppendFrame(frames, Headers, (byte)(EndHeaders | (endStream ? EndStream : 0)), streamId, [.. block]);
    }

    public static void AppendFrame(List<byte> frames, byte type, byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[9];
        WriteFrameHeader(header, payload.Length, type, flags, streamId);
        frames.AddRange(header);
        frames.AddRange(payload);
    }

    public static void AppendRstStream(List<byte> frames, int streamId)
    {
        Span<byte> code = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(code, 0x8); // CANCEL
        AppendFrame(frames, RstStream, 0, streamId, code);
    }

    /// <summary>A gRPC length-prefixed message: flag 0, 4-byte big-endian length (which may claim more than follows).</summary>
    public static byte[] GrpcPrefix(int announcedLength)
    {
        var prefix = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(prefix.AsSpan(1), (uint)announcedLength);
        return prefix;
    }

    /// <summary>Blocking send, for a flood running on its own thread.</summary>
    public void Send(ReadOnlySpan<byte> bytes, CancellationToken cancellationToken)
    {
        _sendGate.Wait(cancellationToken);
        try
        {
            _stream.Write(bytes);
        }
        finally
        {
            _sendGate.Release();
        }
    }

    /// <summary>Blocking <see cref="TakeConnectionWindowAsync"/>, for a flood running on its own thread.</summary>
    public bool TakeConnectionWindow(int bytes, CancellationToken cancellationToken)
    {
        while (!IsClosed && !cancellationToken.IsCancellationRequested)
        {
            Task opened;
            lock (_windows)
            {
                if (_connectionWindow >= bytes)
                {
                    _connectionWindow -= bytes;
                    return true;
                }

                opened = _windowOpened.Task;
            }

            // Bounded wait; the loop re-checks the connection and the caller's token.
            opened.Wait(TimeSpan.FromMilliseconds(100), CancellationToken.None);
        }

        return false;
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _sendGate.WaitAsync(cancellationToken);
        try
        {
            await _stream.WriteAsync(bytes, cancellationToken);
        }
        finally
        {
            _sendGate.Release();
        }
    }

    /// <summary>
    /// Sends <paramref name="payload"/> as DATA frames on <paramref name="streamId"/> within the
    /// server's flow-control windows; waits (bounded by <paramref name="cancellationToken"/>) for
    /// WINDOW_UPDATEs when they are used up. Returns the bytes sent (less if the connection closed).
    /// </summary>
    public async Task<long> SendDataAsync(int streamId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        long sent = 0;
        while (sent < payload.Length && !IsClosed)
        {
            int chunk;
            Task opened;
            lock (_windows)
            {
                var stream = _streamWindows.GetValueOrDefault(streamId);
                chunk = (int)Math.Min(Math.Min(MaxFrame, payload.Length - sent), Math.Min(_connectionWindow, stream));
                if (chunk > 0)
                {
                    _connectionWindow -= chunk;
                    _streamWindows[streamId] = stream - chunk;
                }

                opened = _windowOpened.Task;
            }

            if (chunk <= 0)
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closed.Token);
                await opened.WaitAsync(linked.Token).ConfigureAwait(false);
                continue;
            }

            var frame = new List<byte>(chunk + 9);
            AppendFrame(frame, Data, 0, streamId, payload.Span.Slice((int)sent, chunk));
            await SendAsync(frame.ToArray(), cancellationToken);
            sent += chunk;
            Interlocked.Add(ref _dataBytesSent, chunk);
        }

        return sent;
    }

    public async ValueTask DisposeAsync()
    {
        _closed.Cancel();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }

        _socket.Dispose();
        try
        {
            await _reader.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }

        _stream.Dispose();
        _closed.Dispose();
        _sendGate.Dispose();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static void WriteFrameHeader(Span<byte> target, int length, byte type, byte flags, int streamId)
    {
        target[0] = (byte)(length >> 16);
        target[1] = (byte)(length >> 8);
        target[2] = (byte)length;
        target[3] = type;
        target[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(target[5..], streamId & int.MaxValue);
    }

    /// <summary>HPACK "literal header field without indexing, new name" (RFC 7541 6.2.2); names and values under 127 bytes.</summary>
    private static void Literal(List<byte> block, string name, string value)
    {
        block.Add(0x00);
        block.Add((byte)name.Length);
        block.AddRange(Encoding.ASCII.GetBytes(name));
        block.Add((byte)value.Length);
        block.AddRange(Encoding.ASCII.GetBytes(value));
    }

    private async Task ReadLoopAsync()
    {
        var header = new byte[9];
        var payload = new byte[1 << 16];
        try
        {
            while (true)
            {
                await _stream.ReadExactlyAsync(header, _closed.Token);
                var length = (header[0] << 16) | (header[1] << 8) | header[2];
                var type = header[3];
                var flags = header[4];
                var streamId = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & int.MaxValue;
                if (length > payload.Length) payload = new byte[length];
                await _stream.ReadExactlyAsync(payload.AsMemory(0, length), _closed.Token);
                switch (type)
                {
                    case Settings when (flags & Ack) == 0:
                        ApplySettings(payload.AsSpan(0, length));
                        var ack = new List<byte>(9);
                        AppendFrame(ack, Settings, Ack, 0, []);
                        await SendAsync(ack.ToArray(), _closed.Token);
                        break;
                    case Ping when (flags & Ack) == 0:
                        var pong = new List<byte>(17);
                        AppendFrame(pong, Ping, Ack, 0, payload.AsSpan(0, length));
                        await SendAsync(pong.ToArray(), _closed.Token);
                        break;
                    case WindowUpdate:
                        OpenWindow(streamId, BinaryPrimitives.ReadInt32BigEndian(payload) & int.MaxValue);
                        break;
                    case RstStream:
                        ServerResets++;
                        break;
                    case GoAway:
                        GoAways++;
                        _closed.Cancel();
                        return;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or EndOfStreamException)
        {
            _closed.Cancel();
        }
    }

    private void ApplySettings(ReadOnlySpan<byte> settings)
    {
        for (var i = 0; i + 6 <= settings.Length; i += 6)
        {
            var id = BinaryPrimitives.ReadUInt16BigEndian(settings[i..]);
            var value = BinaryPrimitives.ReadUInt32BigEndian(settings[(i + 2)..]);
            if (id != 0x4) continue; // SETTINGS_INITIAL_WINDOW_SIZE
            lock (_windows)
            {
                var delta = value - _initialStreamWindow;
                _initialStreamWindow = value;
                foreach (var key in _streamWindows.Keys.ToList())
                {
                    _streamWindows[key] += delta;
                }

                Signal();
            }
        }
    }

    private void OpenWindow(int streamId, int increment)
    {
        lock (_windows)
        {
            if (streamId == 0) _connectionWindow += increment;
            else if (_streamWindows.TryGetValue(streamId, out var window)) _streamWindows[streamId] = window + increment;
            Signal();
        }
    }

    /// <summary>Wakes senders waiting for window; called under the windows lock.</summary>
    private void Signal()
    {
        var previous = _windowOpened;
        _windowOpened = NewSignal();
        previous.TrySetResult();
    }

    /// <summary>
    /// Takes <paramref name="bytes"/> of the connection's send window, waiting (bounded by
    /// <paramref name="cancellationToken"/>) for WINDOW_UPDATEs; false when the connection closed.
    /// </summary>
    public async Task<bool> TakeConnectionWindowAsync(int bytes, CancellationToken cancellationToken)
    {
        while (!IsClosed)
        {
            Task opened;
            lock (_windows)
            {
                if (_connectionWindow >= bytes)
                {
                    _connectionWindow -= bytes;
                    return true;
                }

                opened = _windowOpened.Task;
            }

            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closed.Token);
            try
            {
                await opened.WaitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>Forgets a finished stream's window (rapid reset opens millions of streams).</summary>
    public void Forget(int streamId)
    {
        lock (_windows)
        {
            _streamWindows.Remove(streamId);
        }
    }
}
