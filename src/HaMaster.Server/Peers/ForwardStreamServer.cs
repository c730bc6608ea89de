using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using HaMaster.Protos.V1;
using HaMaster.Server.Services;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Peers;

/// <summary>
/// The leader's side of <c>RaftPeer/ForwardStream</c> (<see cref="ForwardStreams"/> is the
/// follower's): each call of an incoming message starts at once, as a unary <c>Forward</c> would,
/// and each answer is queued as it completes; one writer puts every answer queued while the
/// previous message was being written into the next message. <c>invoke</c> runs one call
/// (<see cref="ForwardedCalls.InvokeAsync"/>). A failure becomes the call's own
/// status and message (<see cref="ServerErrors.ToRpc"/>, as the error interceptor maps a unary
/// call's), never the stream's. When the follower goes away, its calls still running are cancelled.
/// At most <c>maxInProgress</c> calls of one stream run at once (a follower's calls are bounded by its
/// own client admission; this bounds a peer that is not): the next one is refused at once with
/// RESOURCE_EXHAUSTED, which the client retries.
/// </summary>
internal sealed class ForwardStreamServer(Func<ForwardRequest, CancellationToken, Task<IMessage>> invoke, int maxMessageBytes, ILogger logger, CancellationToken stopping,
    int maxInProgress = ForwardStreamServer.DefaultMaxInProgress)
{
    /// <summary>Calls of one follower's stream running at once on the leader, at most (ClientAdmission's default whole-port cap is lower).</summary>
    public const int DefaultMaxInProgress = 10_000;

    public async Task ServeAsync(IAsyncStreamReader<ForwardBatch> requests, IServerStreamWriter<ForwardReplyBatch> responses, ServerCallContext context)
    {
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, stopping);
        var replies = Channel.CreateUnbounded<ForwardReply>(new UnboundedChannelOptions { SingleReader = true });
        var writer = WriteRepliesAsync(replies.Reader, responses, ended);
        var inProgress = new StrongBox<int>();
        try
        {
            while (await requests.MoveNext(ended.Token).ConfigureAwait(false))
            {
                foreach (var call in requests.Current.Calls)
                {
                    if (Interlocked.Increment(ref inProgress.Value) > maxInProgress)
                    {
                        Interlocked.Decrement(ref inProgress.Value);
                        replies.Writer.TryWrite(new ForwardReply
                        {
                            Id = call.Id,
                            StatusCode = (int)StatusCode.ResourceExhausted,
                            StatusDetail = $"the leader already runs {maxInProgress} calls forwarded by this master; retry shortly",
                        });
                        continue;
                    }

                    _ = RunAsync(call, replies.Writer, inProgress, ended.Token);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && ended.IsCancellationRequested)
        {
            // The follower went away, or this master is stopping: the follower fails what it was waiting for.
        }
        finally
        {
            replies.Writer.TryComplete();
        }

        // The follower closed its side (it never does while it has calls waiting): the answers
        // already queued still go out.
        await writer.ConfigureAwait(false);
        if (stopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw ServerErrors.Status(StatusCode.Unavailable, "this master is shutting down");
        }
    }

    private async Task RunAsync(ForwardCall call, ChannelWriter<ForwardReply> replies, StrongBox<int> inProgress, CancellationToken ended)
    {
        ForwardReply reply;
        try
        {
            var response = await invoke(call.Request ?? new ForwardRequest(), ended).ConfigureAwait(false);
            reply = new ForwardReply { Id = call.Id, Response = response.ToByteString() };
        }
        catch (OperationCanceledException) when (ended.IsCancellationRequested)
        {
            return; // nobody to answer
        }
        catch (Exception e)
        {
            var status = ServerErrors.ToRpc(e).Status;
            if (ServerErrors.ShouldLog(e)) LogMessages.CallFailed(logger, call.Request?.Method ?? "(forwarded call)", e);
            reply = new ForwardReply { Id = call.Id, StatusCode = (int)status.StatusCode, StatusDetail = status.Detail };
        }
        finally
        {
            Interlocked.Decrement(ref inProgress.Value);
        }

        replies.TryWrite(reply);
    }

    private async Task WriteRepliesAsync(ChannelReader<ForwardReply> replies, IServerStreamWriter<ForwardReplyBatch> responses, CancellationTokenSource stream)
    {
        var ended = stream.Token;
        var batch = new ForwardReplyBatch();
        try
        {
            while (await replies.WaitToReadAsync(ended).ConfigureAwait(false))
            {
                batch.Replies.Clear();
                long bytes = 0;
                while (replies.TryPeek(out var next))
                {
                    var size = next.CalculateSize() + 8;
                    if (batch.Replies.Count > 0 && bytes + size > maxMessageBytes - 64) break;
                    replies.TryRead(out _);
                    batch.Replies.Add(next);
                    bytes += size;
                }

                await responses.WriteAsync(batch, ended).ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            // The stream ended or broke under the writer: the reader stops too, and the follower fails
            // the calls it was waiting for (their outcome is unknown to it).
            await stream.CancelAsync().ConfigureAwait(false);
        }
    }
}
