using System.Collections.Concurrent;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using HaMaster.Protos.V1;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Peers;

/// <summary>
/// A follower's side of <c>RaftPeer/ForwardStream</c>: the calls it forwards to the leader ride one
/// long-lived duplex stream per leader address instead of one unary <c>RaftPeer/Forward</c> call
/// each (etcd forwards proposals on its peer stream). One sender per stream puts every call queued
/// while the previous message was being written into the next message; a receiver completes each
/// call when the reply with its id arrives. A forwarded write then costs a few hundred bytes on an
/// open stream instead of an HTTP/2 stream with headers, a call object and the peer port's
/// interceptors on both masters (issue 19: forwarded writes were the costliest path).
/// <para>
/// When the stream breaks (the leader died, restarted or stalled a write for 3 s) the calls sent on
/// it fail with UNAVAILABLE "outcome unknown" (the leader may have applied them; a client's session
/// makes its retry exactly-once) and the next call opens a new stream. A leader that does not know
/// the method (an older master during a rolling upgrade) answers UNIMPLEMENTED: from then on this
/// address gets unary <c>Forward</c> calls, and the calls that were waiting are sent that way.
/// </para>
/// </summary>
internal sealed class ForwardStreams : IDisposable
{
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(3);
    private readonly PeerChannels _channels;
    private readonly ILogger _logger;
    private readonly int _maxMessageBytes;
    private readonly ConcurrentDictionary<string, Stream> _streams = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private long _nextId;

    public ForwardStreams(PeerChannels channels, int maxMessageBytes, ILogger logger)
    {
        _channels = channels;
        _maxMessageBytes = maxMessageBytes;
        _logger = logger;
    }

    /// <summary>
    /// Forwards <paramref name="request"/> to the leader at <paramref name="address"/> and returns its
    /// answer; the leader's refusal is thrown as an <see cref="RpcException"/> with its status and message.
    /// <paramref name="timeout"/> bounds a unary fallback call; <paramref name="cancellationToken"/> ends the wait.
    /// </summary>
    public Task<ForwardResponse> CallAsync(string address, ForwardRequest request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Room for the call's id and the batch's framing: a call that cannot travel fails alone, not its stream.
        var size = request.CalculateSize();
        if (size > _maxMessageBytes - 64)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"the request ({size} bytes) is too large to forward to the leader (at most {_maxMessageBytes - 64} bytes); send it to the leader directly"));
        }

        var stream = _streams.GetOrAdd(address, static (a, self) => new Stream(self, a), this);
        return stream.Unimplemented
            ? UnaryAsync(address, request, timeout, cancellationToken)
            : stream.CallAsync(new Pending(Interlocked.Increment(ref _nextId), request, size), cancellationToken);
    }

    private async Task<ForwardResponse> UnaryAsync(string address, ForwardRequest request, TimeSpan timeout, CancellationToken cancellationToken) =>
        await _channels.Get(address).ForwardAsync(request, _channels.Options(timeout, cancellationToken)).ConfigureAwait(false);

    public void Dispose()
    {
        _stopping.Cancel();
        foreach (var stream in _streams.Values) stream.Close();

        // _stopping is not disposed: loops winding down still read its token (it holds no timer).
    }

    /// <summary>One forwarded call waiting for its reply.</summary>
    private sealed class Pending(long id, ForwardRequest request, int size)
    {
        public readonly ulong Id = (ulong)id;
        public readonly ForwardRequest Request = request;
        public readonly int Size = size;
        // Completed by the stream's receiver; the waiting call's continuation (its answer to the
        // client) runs right there instead of being handed to another thread: one wake-up less per
        // forwarded call, which is what a call costs at low concurrency (docs/cpu.md).
        public readonly TaskCompletionSource<ForwardResponse> Reply = new();
        public Connection? SentOn;
    }

    /// <summary>The calls to one leader address: a queue, its sender, and the open connection (stream).</summary>
    private sealed class Stream
    {
        private readonly ForwardStreams _owner;
        private readonly string _address;
        // Synchronous continuations: a call queued while the sender waits for work runs the sender
        // on the caller's thread (it writes the message at once) instead of waking another thread.
        private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = true });
        private volatile bool _unimplemented;

        public Stream(ForwardStreams owner, string address)
        {
            _owner = owner;
            _address = address;
            _ = Task.Run(SendLoopAsync);
        }

        public bool Unimplemented => _unimplemented;

        public async Task<ForwardResponse> CallAsync(Pending call, CancellationToken cancellationToken)
        {
            if (!_queue.Writer.TryWrite(call)) throw new RpcException(new Status(StatusCode.Unavailable, "this master is shutting down"));
            try
            {
                return await call.Reply.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The caller gave up; the leader may still answer, which nobody reads.
                call.Reply.TrySetCanceled(cancellationToken);
                call.SentOn?.Forget(call.Id);
                throw;
            }
        }

        public void Close() => _queue.Writer.TryComplete();

        private async Task SendLoopAsync()
        {
            var reader = _queue.Reader;
            var stopping = _owner._stopping.Token;
            var batch = new ForwardBatch();
            var sent = new List<Pending>();
            using var deadline = new WriteDeadline(WriteTimeout);
            Connection? connection = null;
            try
            {
                while (await reader.WaitToReadAsync(stopping).ConfigureAwait(false))
                {
                    batch.Calls.Clear();
                    sent.Clear();
                    long bytes = 0;
                    while (reader.TryPeek(out var next) && (sent.Count == 0 || bytes + next.Size + 32 <= _owner._maxMessageBytes - 64))
                    {
                        reader.TryRead(out _);
                        if (next.Reply.Task.IsCompleted) continue; // its caller gave up while it waited here
                        batch.Calls.Add(new ForwardCall { Id = next.Id, Request = next.Request });
                        sent.Add(next);
                        bytes += next.Size + 32;
                    }

                    if (sent.Count == 0) continue;
                    if (_unimplemented)
                    {
                        foreach (var call in sent) _owner.SendUnary(_address, call);
                        continue;
                    }

                    if (connection is null || connection.Failed) connection = new Connection(this);
                    foreach (var call in sent) connection.Track(call);
                    try
                    {
                        // The call itself ends when this master stops (its options carry _stopping).
                        await deadline.WriteAsync(connection.Requests, batch).ConfigureAwait(false);
                    }
                    catch (Exception e) when (!stopping.IsCancellationRequested)
                    {
                        // The receiver decides what the calls on it become (a leader that answered
                        // UNIMPLEMENTED gets them again as unary calls); a stalled stream is abandoned.
                        LogMessages.ForwardStreamFailed(_owner._logger, _address, e);
                        await connection.AbandonAsync().ConfigureAwait(false);
                        connection = null;
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
            }
            finally
            {
                connection?.Fail();
                while (reader.TryRead(out var left))
                {
                    left.Reply.TrySetException(new RpcException(new Status(StatusCode.Unavailable, "this master is shutting down")));
                }
            }
        }

        /// <summary>The leader does not serve ForwardStream: this address gets unary calls from now on.</summary>
        public void FallBackToUnary() => _unimplemented = true;

        public ForwardStreams Owner => _owner;

        public string Address => _address;
    }

    private void SendUnary(string address, Pending call)
    {
        var timeout = call.Request.TimeoutMs > 0 ? TimeSpan.FromMilliseconds(call.Request.TimeoutMs) : TimeSpan.FromSeconds(30);
        _ = CompleteAsync();

        async Task CompleteAsync()
        {
            try
            {
                call.Reply.TrySetResult(await UnaryAsync(address, call.Request, timeout, _stopping.Token).ConfigureAwait(false));
            }
            catch (Exception e)
            {
                call.Reply.TrySetException(e);
            }
        }
    }

    /// <summary>One open duplex stream and the calls sent on it that wait for their replies.</summary>
    private sealed class Connection
    {
        private readonly Stream _stream;
        private readonly AsyncDuplexStreamingCall<ForwardBatch, ForwardReplyBatch> _call;
        private readonly Dictionary<ulong, Pending> _waiting = [];
        private readonly Lock _gate = new();
        private readonly Task _receiving;
        private bool _failed;

        public Connection(Stream stream)
        {
            _stream = stream;
            var channels = stream.Owner._channels;
            _call = channels.Get(stream.Address).ForwardStream(channels.Options(timeout: null, stream.Owner._stopping.Token));
            _receiving = Task.Run(ReceiveLoopAsync);
        }

        public bool Failed
        {
            get
            {
                lock (_gate) return _failed;
            }
        }

        /// <summary>Registers a call before it is written; one registered after the stream failed fails at once.</summary>
        public void Track(Pending call)
        {
            lock (_gate)
            {
                if (!_failed)
                {
                    call.SentOn = this;
                    _waiting[call.Id] = call;
                    return;
                }
            }

            if (_stream.Unimplemented)
            {
                _stream.Owner.SendUnary(_stream.Address, call);
            }
            else
            {
                call.Reply.TrySetException(Broken());
            }
        }

        /// <summary>After a failed write: lets the receiver settle the calls (briefly), then fails what is left.</summary>
        public async Task AbandonAsync()
        {
            try
            {
                await _receiving.WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Stalled rather than ended: Fail ends it.
            }

            Fail();
        }

        public void Forget(ulong id)
        {
            lock (_gate) _waiting.Remove(id);
        }

        public IClientStreamWriter<ForwardBatch> Requests => _call.RequestStream;

        private async Task ReceiveLoopAsync()
        {
            Exception? ended = null;
            try
            {
                while (await _call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
                {
                    foreach (var reply in _call.ResponseStream.Current.Replies)
                    {
                        Pending? call;
                        lock (_gate)
                        {
                            if (!_waiting.Remove(reply.Id, out call)) continue;
                        }

                        if (reply.StatusCode == 0)
                        {
                            call.Reply.TrySetResult(new ForwardResponse { Response = reply.Response });
                        }
                        else
                        {
                            call.Reply.TrySetException(new RpcException(new Status((StatusCode)reply.StatusCode, reply.StatusDetail)));
                        }
                    }
                }
            }
            catch (Exception e)
            {
                ended = e;
            }

            if (ended is RpcException { StatusCode: StatusCode.Unimplemented })
            {
                // The calls never reached a handler: they go again, as unary calls.
                _stream.FallBackToUnary();
                foreach (var call in TakeAll()) _stream.Owner.SendUnary(_stream.Address, call);
                _call.Dispose();
                return;
            }

            if (ended is not null && !_stream.Owner._stopping.IsCancellationRequested) LogMessages.ForwardStreamFailed(_stream.Owner._logger, _stream.Address, ended);
            Fail();
        }

        private List<Pending> TakeAll()
        {
            lock (_gate)
            {
                _failed = true;
                var all = _waiting.Values.ToList();
                _waiting.Clear();
                return all;
            }
        }

        /// <summary>Ends the stream; every call sent on it that has no reply yet fails with UNAVAILABLE (outcome unknown).</summary>
        public void Fail()
        {
            foreach (var call in TakeAll()) call.Reply.TrySetException(Broken());
            _call.Dispose();
        }

        private RpcException Broken() => new(new Status(StatusCode.Unavailable,
            $"the stream to the leader at {_stream.Address} broke while the call was forwarded (its outcome is unknown); retry"));
    }
}
