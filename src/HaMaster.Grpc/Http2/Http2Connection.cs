using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using HaMaster.Grpc.Http2.Hpack;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace HaMaster.Grpc.Http2;

/// <summary>
/// The server side of one HTTP/2 connection (RFC 9113): one read loop parses frames and feeds
/// streams; handlers run on the thread pool and send through <see cref="Http2Output"/>.
/// Per connection it keeps only what the protocol needs (HPACK table, stream map, windows):
/// no timers and no pooled per-request state, so tens of thousands of idle connections cost
/// little and wake nothing.
/// Concurrency: the stream map and send windows are guarded by locks (handlers end streams and
/// take window from other threads); everything else belongs to the read loop.
/// </summary>
internal sealed partial class Http2Connection
{
    private readonly ConnectionContext _context;
    private readonly PipeReader _input;
    private readonly ILogger _logger;
    private readonly Dictionary<int, Http2Stream> _streams = [];
    private readonly HpackDecoder _decoder;
    private readonly Http2RequestHeadCollector _head;
    private readonly object _flowLock = new();
    private readonly List<Http2Stream> _windowWaiters = [];
    private readonly object _receiveLock = new();

    private int _lastStreamId;
    private long _sendWindow = Http2FrameHeader.DefaultWindow;
    private long _receiveWindow;
    private int _unackedReceive;
    private bool _closing;
    private bool _peerGoAway;
    private bool _sawSettings;
    private readonly long _acceptedAt = Environment.TickCount64;
    private long _lastFrameAt = Environment.TickCount64;
    private long _lastStreamActivityAt = Environment.TickCount64; // a stream opened or ended
    private long _pingSentAt; // 0: no keep-alive PING outstanding (sweeper thread only)
    private volatile bool _prefaceReceived;

    // Header block being assembled from HEADERS + CONTINUATION.
    private byte[]? _headerBlock;
    private int _headerBlockLength;
    private int _headerStreamId;
    private bool _headerEndStream;

    public Http2Connection(ConnectionContext context, Http2Application application, Http2ServerLimits limits, ILogger logger)
    {
        _context = context;
        _input = context.Transport.Input;
        _logger = logger;
        Application = application;
        Limits = limits;
        Output = new Http2Output(context.Transport.Output);
        // A string can be no longer than its block (at most twice the list limit, see
        // AppendHeaderFragment) expanded by Huffman decoding (at most 8/5): the list limit, checked
        // after decoding, is what turns a large header into a clean RESOURCE_EXHAUSTED.
        _decoder = new HpackDecoder(limits.HeaderTableBytes, limits.MaxHeaderListBytes * 4);
        _head = new Http2RequestHeadCollector(limits.MaxHeaderListBytes);
        _receiveWindow = limits.InitialConnectionWindow;
        ConnectionFeature = new Http2ConnectionFeature(context);
        TlsFeature = context.Features.Get<ITlsConnectionFeature>();
    }

    public Http2Application Application { get; }

    public Http2ServerLimits Limits { get; }

    public Http2Output Output { get; }

    public IHttpConnectionFeature ConnectionFeature { get; }

    public ITlsConnectionFeature? TlsFeature { get; }

    /// <summary>The peer's SETTINGS_INITIAL_WINDOW_SIZE: the send window of a new stream.</summary>
    public long PeerInitialWindow { get; private set; } = Http2FrameHeader.DefaultWindow;

    /// <summary>Serves the connection until the client closes it, a protocol error, or server shutdown.</summary>
    public async Task RunAsync()
    {
        CancellationTokenRegistration closing = default;
        try
        {
            if (!await ReadPrefaceAsync().ConfigureAwait(false))
            {
                return;
            }

            await Output.WriteSettingsAsync(Limits).ConfigureAwait(false);
            _prefaceReceived = true; // (after our SETTINGS: an idle GOAWAY must not precede them)

            // Registered after our SETTINGS: the server preface must precede a shutdown GOAWAY.
            closing = _context.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested
                .Register(static c => ((Http2Connection)c!).BeginClose(), this) ?? default;
            await ReadFramesAsync().ConfigureAwait(false);
        }
        catch (Http2ConnectionException ex)
        {
            Log.ProtocolError(_logger, _context.ConnectionId, ex.Code, ex.Message);
            await Output.WriteGoAwayAsync(_lastStreamId, ex.Code, ex.Message).ConfigureAwait(false);
        }
        catch (HpackException ex)
        {
            Log.ProtocolError(_logger, _context.ConnectionId, Http2ErrorCode.CompressionError, ex.Message);
            await Output.WriteGoAwayAsync(_lastStreamId, Http2ErrorCode.CompressionError, ex.Message).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away.
        }
        finally
        {
            await closing.DisposeAsync().ConfigureAwait(false);
            Http2Stream[] open;
            lock (_streams)
            {
                open = [.. _streams.Values];
            }

            foreach (var stream in open)
            {
                stream.Reset();
            }

            await Output.CloseAsync().ConfigureAwait(false);
            ReturnHeaderBlock();
        }
    }

    /// <summary>
    /// Called by the server's sweeper (one at a time): closes a connection that has not sent its
    /// preface within <see cref="Http2ServerLimits.HandshakeTimeout"/>; PINGs one silent for
    /// <see cref="Http2ServerLimits.KeepAlivePingDelay"/> and closes it when still silent after
    /// <see cref="Http2ServerLimits.KeepAlivePingTimeout"/>; sends GOAWAY to one that has had no open
    /// stream for <see cref="Http2ServerLimits.IdleTimeout"/>.
    /// </summary>
    public void EnforceTimeouts(long now)
    {
        if (!_prefaceReceived)
        {
            if (now - _acceptedAt >= (long)Limits.HandshakeTimeout.TotalMilliseconds)
            {
                Log.HandshakeTimedOut(_logger, _context.ConnectionId, (long)Limits.HandshakeTimeout.TotalMilliseconds);
                _context.Abort(new ConnectionAbortedException("no HTTP/2 preface within the handshake timeout"));
            }

            return;
        }

        var lastFrame = Volatile.Read(ref _lastFrameAt);
        if (_pingSentAt != 0)
        {
            if (lastFrame >= _pingSentAt)
            {
                _pingSentAt = 0; // the client answered (or sent anything at all)
            }
            else if (now - _pingSentAt >= (long)Limits.KeepAlivePingTimeout.TotalMilliseconds)
            {
                Log.KeepAliveTimedOut(_logger, _context.ConnectionId, now - lastFrame);
                _context.Abort(new ConnectionAbortedException("the client did not answer a keep-alive PING"));
                return;
            }
        }

        if (_pingSentAt == 0 && Limits.KeepAlivePingDelay != Timeout.InfiniteTimeSpan && now - lastFrame >= (long)Limits.KeepAlivePingDelay.TotalMilliseconds)
        {
            _pingSentAt = now;
            Forget(Output.WritePingAsync((ulong)now));
        }

        if (Limits.IdleTimeout == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        long idle;
        lock (_streams)
        {
            idle = now - _lastStreamActivityAt;
            if (_streams.Count > 0 || _closing || idle < (long)Limits.IdleTimeout.TotalMilliseconds)
            {
                return;
            }
        }

        Log.IdleClosed(_logger, _context.ConnectionId, idle);
        BeginClose();
    }

    /// <summary>Server shutdown: GOAWAY now, stop when the streams under way are done.</summary>
    private void BeginClose()
    {
        lock (_streams)
        {
            if (_closing)
            {
                return;
            }

            _closing = true;
        }

        _ = CloseGracefullyAsync();
    }

    private async Task CloseGracefullyAsync()
    {
        await Output.WriteGoAwayAsync(Volatile.Read(ref _lastStreamId), Http2ErrorCode.NoError, null).ConfigureAwait(false);
        StopIfDrained();
    }

    private void StopIfDrained()
    {
        bool stop;
        lock (_streams)
        {
            stop = (_closing || _peerGoAway) && _streams.Count == 0;
        }

        if (stop)
        {
            _input.CancelPendingRead();
        }
    }

    private async ValueTask<bool> ReadPrefaceAsync()
    {
        while (true)
        {
            var result = await _input.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            var available = (int)Math.Min(buffer.Length, Http2FrameHeader.Preface.Length);
            if (!StartsLikePreface(buffer.Slice(0, available)))
            {
                // Not HTTP/2 with prior knowledge (e.g. an HTTP/1.1 request): give up at the first wrong byte.
                _input.AdvanceTo(buffer.End);
                Log.BadPreface(_logger, _context.ConnectionId);
                return false;
            }

            if (available == Http2FrameHeader.Preface.Length)
            {
                _input.AdvanceTo(buffer.GetPosition(Http2FrameHeader.Preface.Length));
                return true;
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                _input.AdvanceTo(buffer.End);
                return false;
            }

            _input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static bool StartsLikePreface(in ReadOnlySequence<byte> received)
    {
        Span<byte> bytes = stackalloc byte[24];
        received.CopyTo(bytes);
        return bytes[..(int)received.Length].SequenceEqual(Http2FrameHeader.Preface[..(int)received.Length]);
    }

    private async ValueTask ReadFramesAsync()
    {
        while (true)
        {
            var result = await _input.ReadAsync().ConfigureAwait(false);
            Volatile.Write(ref _lastFrameAt, Environment.TickCount64);
            var buffer = result.Buffer;
            try
            {
                while (TryReadFrame(ref buffer, out var header, out var payload))
                {
                    var pending = ProcessFrame(header, payload);
                    if (!pending.IsCompletedSuccessfully)
                    {
                        await pending.ConfigureAwait(false);
                    }
                }

                if (result.IsCompleted)
                {
                    return;
                }

                if (result.IsCanceled)
                {
                    lock (_streams)
                    {
                        if ((_closing || _peerGoAway) && _streams.Count == 0)
                        {
                            return;
                        }
                    }
                }
            }
            finally
            {
                _input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
    }

    private static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out Http2FrameHeader header, out ReadOnlySequence<byte> payload)
    {
        header = default;
        payload = default;
        if (buffer.Length < Http2FrameHeader.Size)
        {
            return false;
        }

        Span<byte> raw = stackalloc byte[Http2FrameHeader.Size];
        buffer.Slice(0, Http2FrameHeader.Size).CopyTo(raw);
        header = Http2FrameHeader.Read(raw);
        if (header.Length > Http2FrameHeader.DefaultMaxFrameSize)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"frame of {header.Length} bytes exceeds SETTINGS_MAX_FRAME_SIZE {Http2FrameHeader.DefaultMaxFrameSize}");
        }

        if (buffer.Length < Http2FrameHeader.Size + header.Length)
        {
            return false;
        }

        payload = buffer.Slice(Http2FrameHeader.Size, header.Length);
        buffer = buffer.Slice(payload.End);
        return true;
    }

    // Ids of the last streams this server reset (or answered while the client was still sending),
    // whose late HEADERS are ignored rather than taken for a protocol violation.
    private readonly int[] _recentlyReset = new int[32];
    private int _recentlyResetNext;

    private void RememberReset(int id)
    {
        lock (_recentlyReset)
        {
            _recentlyReset[_recentlyResetNext] = id;
            _recentlyResetNext = (_recentlyResetNext + 1) % _recentlyReset.Length;
        }
    }

    private bool WasResetByUs(int id)
    {
        lock (_recentlyReset)
        {
            return Array.IndexOf(_recentlyReset, id) >= 0;
        }
    }

    // ---- called by streams ----

    public void OnStreamEnded(Http2Stream stream)
    {
        lock (_streams)
        {
            _streams.Remove(stream.Id);
            _lastStreamActivityAt = Environment.TickCount64;
        }

        if (stream.IsReset || !stream.RequestEnded)
        {
            RememberReset(stream.Id); // the client may still have frames for it in flight
        }

        lock (_flowLock)
        {
            _windowWaiters.Remove(stream);
        }

        StopIfDrained();
    }

    public void OnApplicationFailure(Http2Stream stream, Exception exception) =>
        Log.ApplicationError(_logger, _context.ConnectionId, stream.Id, exception);

    /// <summary>
    /// Request bytes left the connection's buffers (consumed by a handler, dropped, or padding):
    /// reopen the connection window, and the stream's by <paramref name="streamCredit"/>, in
    /// WINDOW_UPDATEs of at least half a window so small reads do not each cost a frame.
    /// </summary>
    public void CreditReceive(Http2Stream? stream, int connectionBytes, int streamCredit)
    {
        var connectionCredit = 0;
        if (connectionBytes > 0)
        {
            lock (_receiveLock)
            {
                _unackedReceive += connectionBytes;
                if (_unackedReceive >= Limits.InitialConnectionWindow / 2)
                {
                    connectionCredit = _unackedReceive;
                    _unackedReceive = 0;
                    _receiveWindow += connectionCredit;
                }
            }
        }

        if (connectionCredit > 0)
        {
            Forget(Output.WriteWindowUpdateAsync(0, connectionCredit));
        }

        if (stream is not null && streamCredit > 0 && !stream.RequestEnded && !stream.IsReset)
        {
            lock (_receiveLock)
            {
                stream.ReceiveWindow += streamCredit;
            }

            Forget(Output.WriteWindowUpdateAsync(stream.Id, streamCredit));
        }
    }

    /// <summary>Takes exactly <paramref name="bytes"/> of send window from the connection and the stream, or nothing.</summary>
    public bool TryTakeSendWindow(Http2Stream stream, int bytes)
    {
        lock (_flowLock)
        {
            if (_sendWindow < bytes || stream.SendWindow < bytes)
            {
                return false;
            }

            _sendWindow -= bytes;
            stream.SendWindow -= bytes;
            return true;
        }
    }

    /// <summary>Takes up to <paramref name="wanted"/> bytes of send window, waiting for WINDOW_UPDATE when there is none; 0 when the stream or connection ended.</summary>
    public async ValueTask<int> TakeSendWindowAsync(Http2Stream stream, int wanted, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_flowLock)
            {
                if (stream.IsReset || Output.IsClosed)
                {
                    return 0;
                }

                var granted = (int)Math.Min(wanted, Math.Min(_sendWindow, stream.SendWindow));
                if (granted > 0)
                {
                    _sendWindow -= granted;
                    stream.SendWindow -= granted;
                    return granted;
                }

                stream.WindowWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (!_windowWaiters.Contains(stream))
                {
                    _windowWaiters.Add(stream);
                }

                wait = stream.WindowWaiter.Task;
            }

            try
            {
                await wait.WaitAsync(Limits.SendWindowStallTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Log.SendWindowStalled(_logger, _context.ConnectionId, stream.Id, (long)Limits.SendWindowStallTimeout.TotalMilliseconds);
                stream.Abort(); // RST_STREAM CANCEL; forgets the window wait and cancels the handler
                return 0;
            }
        }
    }

    /// <summary>Wakes a sender waiting for window (the stream was reset, or got window).</summary>
    public void WakeSender(Http2Stream stream)
    {
        TaskCompletionSource? waiter;
        lock (_flowLock)
        {
            waiter = stream.WindowWaiter;
            stream.WindowWaiter = null;
            _windowWaiters.Remove(stream);
        }

        waiter?.TrySetResult();
    }

    private void WakeAllSenders()
    {
        Http2Stream[] waiting;
        lock (_flowLock)
        {
            waiting = [.. _windowWaiters];
        }

        foreach (var stream in waiting)
        {
            WakeSender(stream);
        }
    }

    private static void Forget(ValueTask<bool> write)
    {
        if (write.IsCompleted)
        {
            _ = write.Result;
        }
        else
        {
            _ = write.AsTask();
        }
    }

    private void ReturnHeaderBlock()
    {
        if (_headerBlock is { } block)
        {
            _headerBlock = null;
            ArrayPool<byte>.Shared.Return(block);
        }
    }
}

/// <summary>What a connection runs for each request, and which requests it may answer in one write.</summary>
internal sealed record Http2Application(Func<Microsoft.AspNetCore.Http.HttpContext, Task> Handle, Func<string, bool> BufferResponse)
{
    public Task Invoke(Microsoft.AspNetCore.Http.HttpContext context) => Handle(context);
}

/// <summary>Addresses of a connection, shared by its streams.</summary>
internal sealed class Http2ConnectionFeature : IHttpConnectionFeature
{
    public Http2ConnectionFeature(ConnectionContext context)
    {
        ConnectionId = context.ConnectionId;
        if (context.RemoteEndPoint is IPEndPoint remote)
        {
            RemoteIpAddress = remote.Address;
            RemotePort = remote.Port;
        }

        if (context.LocalEndPoint is IPEndPoint local)
        {
            LocalIpAddress = local.Address;
            LocalPort = local.Port;
        }
    }

    public string ConnectionId { get; set; }

    public IPAddress? RemoteIpAddress { get; set; }

    public IPAddress? LocalIpAddress { get; set; }

    public int RemotePort { get; set; }

    public int LocalPort { get; set; }
}
