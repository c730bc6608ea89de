using Google.Protobuf;
using Grpc.Core;
using HaMaster.Journal;
using SnapshotChunk = HaMaster.Protos.V1.SnapshotChunk;
using HaMaster.Protos.V1;
using HaMaster.Raft;
using HaMaster.Server.Raft;
using HaMaster.Server.Services;

namespace HaMaster.Server.Peers;

/// <summary>The internal master-to-master API (<c>hamaster.v1.RaftPeer</c>) on the peer port.</summary>
internal sealed class RaftPeerService : RaftPeer.RaftPeerBase
{
    public const string ServiceName = "hamaster.v1.RaftPeer";
    private readonly RaftHost _host;
    private readonly ForwardedCalls _forwarded;
    private readonly CancellationToken _stopping;
    private readonly ForwardStreamServer _forwardStreams;

    /// <summary>
    /// <paramref name="stopping"/> fires when this master shuts down: it ends the senders'
    /// DeliverStreams and ForwardStreams (they reconnect later), which would otherwise hold the server open.
    /// </summary>
    public RaftPeerService(RaftHost host, ForwardedCalls forwarded, int maxMessageBytes, Microsoft.Extensions.Logging.ILogger logger, CancellationToken stopping = default)
    {
        _host = host;
        _forwarded = forwarded;
        _stopping = stopping;
        _forwardStreams = new ForwardStreamServer(forwarded.InvokeAsync, maxMessageBytes, logger, stopping);
    }

    // Plumbing: the generated RaftPeer base's methods, each handing over to the logic below.
    public override Task<DeliverResponse> Deliver(RaftMessageBatch request, ServerCallContext context) => DeliverAsync(request, context).AsTask();

    public override Task<DeliverResponse> DeliverStream(IAsyncStreamReader<RaftMessageBatch> requestStream, ServerCallContext context) => DeliverStreamAsync(requestStream, context).AsTask();

    public override Task<InstallSnapshotResponse> PrepareSnapshot(PrepareSnapshotRequest request, ServerCallContext context) => PrepareSnapshotAsync(request, context).AsTask();

    public override Task<InstallSnapshotResponse> InstallSnapshot(IAsyncStreamReader<SnapshotChunk> requestStream, ServerCallContext context) =>
        InstallSnapshotAsync(requestStream.ReadAllAsync(context.CancellationToken), context).AsTask();

    public override Task<ForwardResponse> Forward(ForwardRequest request, ServerCallContext context) => ForwardAsync(request, context).AsTask();

    public override Task ForwardStream(IAsyncStreamReader<ForwardBatch> requestStream, IServerStreamWriter<ForwardReplyBatch> responseStream, ServerCallContext context) =>
        _forwardStreams.ServeAsync(requestStream, responseStream, context);

    public override Task<LocalStatusResponse> GetLocalStatus(LocalStatusRequest request, ServerCallContext context) => GetLocalStatusAsync(request, context).AsTask();

    private ValueTask<DeliverResponse> DeliverAsync(RaftMessageBatch batch, ServerCallContext context)
    {
        LearnSender(context);
        _host.Deliver(CheckAddressing(ParseBatch(batch)));
        return ValueTask.FromResult(new DeliverResponse());
    }

    /// <summary>A sender's long-lived stream of batches: each is handed to the Raft loop as it arrives, in order.</summary>
    private async ValueTask<DeliverResponse> DeliverStreamAsync(IAsyncStreamReader<RaftMessageBatch> batches, ServerCallContext context)
    {
        LearnSender(context);
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, _stopping);
        try
        {
            while (await batches.MoveNext(ended.Token).ConfigureAwait(false))
            {
                _host.Deliver(CheckAddressing(ParseBatch(batches.Current)));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && _stopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw ServerErrors.Status(StatusCode.Unavailable, "this master is shutting down");
        }

        return new DeliverResponse();
    }

    private static Message[] ParseBatch(RaftMessageBatch batch)
    {
        var messages = new Message[batch.Messages.Count];
        try
        {
            for (var i = 0; i < messages.Length; i++) messages[i] = RaftWire.FromWire(batch.Messages[i]);
        }
        catch (FormatException e)
        {
            throw ServerErrors.Status(StatusCode.InvalidArgument, $"malformed Raft message: {e.Message}");
        }

        return messages;
    }

    /// <summary>
    /// Refuses (PERMISSION_DENIED, counted in hamaster_peer_rejected_messages) a batch holding a
    /// message that is not for this master or comes from a master that is not a member of this
    /// cluster (<see cref="RaftHost{TResult}.IsKnownPeer"/>): nothing of the batch reaches the core.
    /// </summary>
    private Message[] CheckAddressing(Message[] messages)
    {
        foreach (var m in messages)
        {
            if (m.To != _host.NodeId)
            {
                _host.Metrics?.PeerRejected("wrong_recipient");
                throw ServerErrors.Status(StatusCode.PermissionDenied, $"a Raft message for master {m.To} reached master {_host.NodeId}");
            }

            if (!_host.IsKnownPeer(m.From))
            {
                _host.Metrics?.PeerRejected("unknown_sender");
                throw ServerErrors.Status(StatusCode.PermissionDenied, $"Raft message from master {m.From}, which is not a member of this cluster");
            }
        }

        return messages;
    }

    /// <summary>Lets a master that does not know the sender yet (it just joined) answer it.</summary>
    private void LearnSender(ServerCallContext context)
    {
        if (context.RequestHeaders.GetValue(PeerAuth.SenderIdHeader) is { } idText
            && ulong.TryParse(idText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var senderId)
            && context.RequestHeaders.GetValue(PeerAuth.SenderAddressHeader) is { } senderAddress
            && Configuration.MasterEndpoint.IsHostPort(senderAddress))
        {
            _host.LearnPeerAddress(senderId, senderAddress);
        }
    }

    private ValueTask<InstallSnapshotResponse> PrepareSnapshotAsync(PrepareSnapshotRequest request, ServerCallContext context)
    {
        var manifest = ParseManifest(request.Manifest);
        if (_host.Snapshots.Holds(manifest.Index, manifest.Term))
        {
            return ValueTask.FromResult(new InstallSnapshotResponse { Complete = true, ReceivedBytes = (ulong)manifest.TotalBytes });
        }

        using var receiver = _host.Snapshots.BeginReceive(manifest);
        return ValueTask.FromResult(new InstallSnapshotResponse
        {
            Complete = receiver.IsComplete,
            ReceivedBytes = (ulong)receiver.ReceivedBytes,
            ResumeFile = receiver.ResumeFile ?? "",
            ResumeOffset = (ulong)receiver.ResumeOffset,
        });
    }

    private async ValueTask<InstallSnapshotResponse> InstallSnapshotAsync(IAsyncEnumerable<SnapshotChunk> chunks, ServerCallContext context)
    {
        SnapshotReceiver? receiver = null;
        RaftMessage? message = null;
        SnapshotManifest? manifest = null;
        try
        {
            await foreach (var chunk in chunks.WithCancellation(context.CancellationToken).ConfigureAwait(false))
            {
                if (chunk.Message is not null)
                {
                    message = chunk.Message;
                    CheckAddressing([ParseMessage(message)]);
                    manifest = ParseManifest(chunk.Manifest);
                    if (!_host.Snapshots.Holds(manifest.Index, manifest.Term))
                    {
                        receiver = _host.Snapshots.BeginReceive(manifest);
                    }
                }
                else if (message is null)
                {
                    throw ServerErrors.Status(StatusCode.InvalidArgument, "the first snapshot chunk must carry the Raft message and the manifest");
                }

                if (receiver is not null && chunk.FileName.Length > 0)
                {
                    receiver.WriteChunk(new HaMaster.Journal.SnapshotChunk(chunk.FileName, (long)chunk.Offset, chunk.Data.Memory, chunk.Crc32C, chunk.LastInFile, chunk.Last));
                }
            }

            if (message is null || manifest is null) throw ServerErrors.Status(StatusCode.InvalidArgument, "empty snapshot stream");
            if (receiver is not null)
            {
                if (!receiver.IsComplete)
                {
                    return new InstallSnapshotResponse { Complete = false, ReceivedBytes = (ulong)receiver.ReceivedBytes, ResumeFile = receiver.ResumeFile ?? "", ResumeOffset = (ulong)receiver.ResumeOffset };
                }

                receiver.Commit();
            }

            // The data is durable in the store (staged): now the core may accept the snapshot, and the
            // Raft loop installs it (SnapshotInstaller.cs).
            _host.Deliver([ParseMessage(message)]);
            return new InstallSnapshotResponse { Complete = true, ReceivedBytes = (ulong)manifest.TotalBytes };
        }
        catch (SnapshotIntegrityException e)
        {
            throw ServerErrors.Status(StatusCode.DataLoss, $"snapshot rejected: {e.Message}");
        }
        finally
        {
            receiver?.Dispose();
        }
    }

    private async ValueTask<ForwardResponse> ForwardAsync(ForwardRequest request, ServerCallContext context)
    {
        var response = await _forwarded.InvokeAsync(request, context.CancellationToken).ConfigureAwait(false);
        return new ForwardResponse { Response = response.ToByteString() };
    }

    private ValueTask<LocalStatusResponse> GetLocalStatusAsync(LocalStatusRequest request, ServerCallContext context)
    {
        var o = _host.Observed;
        return ValueTask.FromResult(new LocalStatusResponse
        {
            Id = o.NodeId,
            Role = (uint)o.Role,
            Term = o.Term,
            LeaderId = o.LeaderId,
            LastLogIndex = o.LastLogIndex,
            CommitIndex = o.CommitIndex,
            AppliedIndex = o.AppliedIndex,
            SnapshotIndex = o.SnapshotIndex,
            Learner = o.IsLearner,
        });
    }

    private static Message ParseMessage(RaftMessage message)
    {
        try
        {
            return RaftWire.FromWire(message);
        }
        catch (FormatException e)
        {
            throw ServerErrors.Status(StatusCode.InvalidArgument, $"malformed Raft snapshot message: {e.Message}");
        }
    }

    private static SnapshotManifest ParseManifest(ByteString bytes)
    {
        try
        {
            return SnapshotManifest.FromBytes(bytes.Span);
        }
        catch (SnapshotIntegrityException e)
        {
            throw ServerErrors.Status(StatusCode.InvalidArgument, $"malformed snapshot manifest: {e.Message}");
        }
    }
}
