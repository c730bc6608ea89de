using System.Threading.Channels;
using Grpc.Core;
using HaMaster.Protos.V1;
using HaMaster.Raft;
using HaMaster.Server.Raft;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Peers;

/// <summary>
/// Sends the core's messages to the other masters over one long-lived <c>RaftPeer/DeliverStream</c>
/// per peer (etcd's stream transport): one queue and one sender per peer; everything queued while
/// the previous batch was being written goes out as the next batch, in order, without waiting for
/// an answer, so a heartbeat or ReadIndex never waits a round trip behind an earlier call. A
/// write that fails or stalls for 3 s ends the stream, is reported to the core as "unreachable"
/// and its messages are dropped: Raft retries by itself, and the next batch opens a new stream.
/// A dead peer that resets connections is noticed at once; a silently partitioned one only once
/// the stream's windows or the socket buffers fill. The stream is the generated
/// <c>RaftPeerClient.DeliverStream</c> client-streaming call (Grpc.Net.Client). Snapshot messages
/// are handed to the <see cref="SnapshotSender"/>.
/// </summary>
internal sealed class PeerTransport : IRaftTransport, IDisposable
{
    private readonly RaftHost _host;
    private readonly PeerChannels _channels;
    private readonly SnapshotSender _snapshots;
    private readonly ILogger _logger;
    private readonly Dictionary<ulong, Channel<Message>> _queues = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _gate = new();

    public PeerTransport(RaftHost host, PeerChannels channels, SnapshotSender snapshots, ILogger logger)
    {
        _host = host;
        _channels = channels;
        _snapshots = snapshots;
        _logger = logger;
    }

    /// <summary>Called from the Raft loop thread and its heartbeat pump; never blocks.</summary>
    public void Send(IReadOnlyList<Message> messages)
    {
        foreach (var m in messages)
        {
            if (m.Type == MessageType.Snapshot)
            {
                _snapshots.Start(m);
                continue;
            }

            QueueFor(m.To).Writer.TryWrite(m);
        }
    }

    private Channel<Message> QueueFor(ulong peer)
    {
        lock (_gate)
        {
            if (_queues.TryGetValue(peer, out var q)) return q;
            // Two writers: the Raft loop, and its heartbeat pump during long iterations (HeartbeatPump.cs).
            q = Channel.CreateUnbounded<Message>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
            _queues[peer] = q;
            _ = Task.Run(() => SendLoopAsync(peer, q.Reader));
            return q;
        }
    }

    private async Task SendLoopAsync(ulong peer, ChannelReader<Message> reader)
    {
        var batch = new RaftMessageBatch();
        using var stream = new PeerStream();
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                batch.Messages.Clear();
                long bytes = 0;
                while (bytes < (4 << 20) && reader.TryRead(out var m))
                {
                    var wire = RaftWire.ToWire(m);
                    bytes += wire.CalculateSize();
                    batch.Messages.Add(wire);
                }

                var address = PeerAddressOf(peer);
                if (address is null)
                {
                    _host.ReportUnreachable(peer);
                    continue;
                }

                try
                {
                    await stream.WriteAsync(_channels, address, batch, _stopping.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (!_stopping.IsCancellationRequested)
                {
                    _logger.LogDebug(e, "delivering {Count} messages to master {Peer} at {Address} failed", batch.Messages.Count, peer, address);
                    stream.Reset();
                    _host.ReportUnreachable(peer);

                    // A down peer refuses connections instantly: pause briefly so heartbeats to
                    // it don't turn into a busy loop.
                    await Task.Delay(20, _stopping.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private string? PeerAddressOf(ulong peer) => _host.PeerAddressOf(peer);

    public void Dispose()
    {
        _stopping.Cancel();
        lock (_gate)
        {
            foreach (var q in _queues.Values) q.Writer.TryComplete();
        }

        // _stopping is not disposed: send loops still winding down read its token, and a
        // CancellationTokenSource without timer or wait handle holds nothing to release.
    }
}

/// <summary>
/// The open DeliverStream to one peer, reopened after a failure or when the peer's address
/// changes. Used by that peer's send loop only.
/// </summary>
internal sealed class PeerStream : IDisposable
{
    private readonly WriteDeadline _deadline = new(TimeSpan.FromSeconds(3));
    private AsyncClientStreamingCall<RaftMessageBatch, DeliverResponse>? _call;
    private string? _address;

    /// <summary>Writes one batch (flushed to the connection); throws if the stream failed or the write stalled past the timeout.</summary>
    public async ValueTask WriteAsync(PeerChannels channels, string address, RaftMessageBatch batch, CancellationToken stopping)
    {
        if (_call is null || !string.Equals(_address, address, StringComparison.Ordinal))
        {
            Reset();
            _call = channels.Get(address).DeliverStream(channels.Options(timeout: null, stopping));
            _address = address;
        }

        await _deadline.WriteAsync(_call.RequestStream, batch).ConfigureAwait(false);
    }

    public void Dispose()
    {
        Reset();
        _deadline.Dispose();
    }

    /// <summary>Abandons the stream (the peer's handler sees it reset); the next write opens a new one.</summary>
    public void Reset()
    {
        _call?.Dispose();
        _call = null;
        _address = null;
    }
}
