using System.Threading.Channels;
using HaMaster.Protos.V1;
using HaMaster.Raft;
using HaMaster.Server.Raft;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Peers;

/// <summary>
/// Sends the core's messages to the other masters over <c>RaftPeer/Deliver</c>. One queue and
/// one sender per peer: everything queued while the previous call was in flight goes out as
/// one batch (so heartbeats, appends and votes share calls under load), in order. A failed
/// call is reported to the core as "unreachable" and its messages are dropped: Raft retries by
/// itself. Snapshot messages are handed to the <see cref="SnapshotSender"/>.
/// </summary>
internal sealed class PeerTransport : IRaftTransport, IDisposable
{
    private const string DeliverMethod = "/hamaster.v1.RaftPeer/Deliver";
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

    /// <summary>Called from the Raft loop thread; never blocks.</summary>
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
            q = Channel.CreateUnbounded<Message>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            _queues[peer] = q;
            _ = Task.Run(() => SendLoopAsync(peer, q.Reader));
            return q;
        }
    }

    private async Task SendLoopAsync(ulong peer, ChannelReader<Message> reader)
    {
        var batch = new RaftMessageBatch();
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
                    await _channels.Get(address)
                        .UnaryAsync(DeliverMethod, batch, DeliverResponse.Parser, _channels.Options(TimeSpan.FromSeconds(3), _stopping.Token))
                        .ConfigureAwait(false);
                }
                catch (Exception e) when (!_stopping.IsCancellationRequested)
                {
                    _logger.LogDebug(e, "delivering {Count} messages to master {Peer} at {Address} failed", batch.Messages.Count, peer, address);
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

        _stopping.Dispose();
    }
}
