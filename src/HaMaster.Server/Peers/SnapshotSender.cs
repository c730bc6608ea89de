using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf;
using HaMaster.Journal;
using SnapshotChunk = HaMaster.Protos.V1.SnapshotChunk;
using HaMaster.Protos.V1;
using HaMaster.Raft;
using HaMaster.Server.Raft;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Peers;

/// <summary>
/// Streams a snapshot to a follower whose next entry was compacted away: asks where the
/// follower stands (<c>PrepareSnapshot</c>: an interrupted transfer resumes where it broke
/// off), then sends the remaining chunks over one client-streaming <c>InstallSnapshot</c>
/// call, awaiting each write (HTTP/2 flow control is the back-pressure), and reports the
/// outcome to the core. At most one transfer per follower at a time.
/// </summary>
internal sealed class SnapshotSender
{
    private readonly Func<RaftHost> _host;
    private readonly PeerChannels _channels;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<ulong, bool> _inFlight = new();

    public SnapshotSender(Func<RaftHost> host, PeerChannels channels, ILogger logger)
    {
        _host = host;
        _channels = channels;
        _logger = logger;
    }

    /// <summary>Starts sending the snapshot that <paramref name="message"/> announces. Never blocks.</summary>
    public void Start(Message message)
    {
        if (!_inFlight.TryAdd(message.To, true)) return;
        _ = Task.Run(async () =>
        {
            var host = _host();
            var ok = false;
            try
            {
                ok = await SendAsync(host, message).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                LogMessages.SnapshotSendFailed(_logger, message.Snapshot?.Index ?? 0, message.To, e);
            }
            finally
            {
                _inFlight.TryRemove(message.To, out _);
                host.ReportSnapshot(message.To, ok);
            }
        });
    }

    private async Task<bool> SendAsync(RaftHost host, Message message)
    {
        var meta = message.Snapshot ?? throw new InvalidOperationException("snapshot message without metadata");
        var manifest = host.Snapshots.List().FirstOrDefault(m => m.Index == meta.Index && m.Term == meta.Term)
            ?? throw new InvalidOperationException($"snapshot {meta.Index}/{meta.Term} is no longer in the store");
        var address = host.PeerAddressOf(message.To)
            ?? throw new InvalidOperationException($"no address known for master {message.To}");
        var peer = _channels.Get(address);
        var manifestBytes = ByteString.CopyFrom(manifest.ToBytes());
        var started = Stopwatch.StartNew();

        var prepared = await peer.PrepareSnapshotAsync(new PrepareSnapshotRequest { Manifest = manifestBytes }, _channels.Options(TimeSpan.FromSeconds(10))).ConfigureAwait(false);

        using var reader = host.Snapshots.OpenForStreaming(manifest, 1 << 20);
        if (!prepared.Complete && prepared.ResumeFile.Length > 0) reader.Seek(prepared.ResumeFile, (long)prepared.ResumeOffset);

        // Large snapshots take a while: allow a generous but bounded time.
        var timeout = TimeSpan.FromSeconds(60) + TimeSpan.FromSeconds(manifest.TotalBytes / (20 << 20));
        using var call = peer.InstallSnapshot(_channels.Options(timeout));
        var first = new SnapshotChunk { Message = RaftWire.ToWire(message), Manifest = manifestBytes };
        long sent = 0;
        if (!prepared.Complete)
        {
            while (await reader.ReadNextAsync().ConfigureAwait(false) is { } chunk)
            {
                var wire = first ?? new SnapshotChunk();
                first = null;
                wire.FileName = chunk.FileName;
                wire.Offset = (ulong)chunk.Offset;
                wire.Data = UnsafeByteOperations.UnsafeWrap(chunk.Data);
                wire.Crc32C = chunk.Crc32C;
                wire.LastInFile = chunk.LastInFile;
                wire.Last = chunk.LastInSnapshot;
                sent += chunk.Data.Length;
                await call.RequestStream.WriteAsync(wire).ConfigureAwait(false);
            }
        }

        if (first is not null)
        {
            first.Last = true;
            await call.RequestStream.WriteAsync(first).ConfigureAwait(false);
        }

        await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        var response = await call.ResponseAsync.ConfigureAwait(false);
        if (response.Complete) LogMessages.SnapshotSent(_logger, meta.Index, message.To, sent, started.ElapsedMilliseconds);
        return response.Complete;
    }
}
