using System.Threading.Channels;
using Grpc.Core;
using HaMaster.Protos.V1;
using HaMaster.Server.Peers;
using HaMaster.Testing;

namespace HaMaster.Server.Tests.Peers;

/// <summary>The per-peer DeliverStream: batches ride one call in order; failures surface so the transport can reset.</summary>
public sealed class PeerStreamTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Batches_arrive_in_order_on_one_stream_without_waiting_for_answers()
    {
        var received = Channel.CreateUnbounded<(int Call, ulong Index)>();
        var calls = 0;
        await using var server = await InProcessGrpcServer.StartAsync(new StreamingPeer(async (batches, context) =>
        {
            var call = Interlocked.Increment(ref calls);
            await foreach (var batch in batches.ReadAllAsync())
            {
                foreach (var m in batch.Messages) received.Writer.TryWrite((call, m.Index));
            }

            return new DeliverResponse();
        }));
        using var channels = new PeerChannels(4 << 20, clusterSecret: null);
        using var stream = new PeerStream();

        for (ulong i = 1; i <= 50; i++)
        {
            await stream.WriteAsync(channels, $"127.0.0.1:{server.Port}", Batch(i), CancellationToken.None).AsTask().WaitAsync(Bound);
        }

        for (ulong i = 1; i <= 50; i++)
        {
            var (call, index) = await received.Reader.ReadAsync().AsTask().WaitAsync(Bound);
            Assert.Equal(i, index);
            Assert.Equal(1, call);
        }
    }

    [Fact]
    public async Task A_dead_peer_fails_the_write_and_a_new_address_gets_a_new_stream()
    {
        var received = Channel.CreateUnbounded<ulong>();
        using var stopFirst = new CancellationTokenSource();
        StreamingPeer Peer(CancellationToken stopping) => new(async (batches, context) =>
        {
            // As RaftPeerService does: the master's shutdown ends the stream.
            using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, stopping);
            await foreach (var batch in batches.ReadAllAsync(ended.Token))
            {
                foreach (var m in batch.Messages) received.Writer.TryWrite(m.Index);
            }

            return new DeliverResponse();
        });
        using var channels = new PeerChannels(4 << 20, clusterSecret: null);
        using var stream = new PeerStream();

        var first = await InProcessGrpcServer.StartAsync(Peer(stopFirst.Token));
        var firstAddress = $"127.0.0.1:{first.Port}";
        await stream.WriteAsync(channels, firstAddress, Batch(1), CancellationToken.None).AsTask().WaitAsync(Bound);
        Assert.Equal(1UL, await received.Reader.ReadAsync().AsTask().WaitAsync(Bound));
        await stopFirst.CancelAsync();
        await first.DisposeAsync();

        // The stream and the server are gone: a write fails (the first one, or a later one once
        // the reset has reached the client; bounded in count and time).
        Exception? failure = null;
        var deadline = DateTime.UtcNow + Bound;
        for (ulong i = 2; failure is null && DateTime.UtcNow < deadline; i++)
        {
            try
            {
                await stream.WriteAsync(channels, firstAddress, Batch(i), CancellationToken.None).AsTask().WaitAsync(Bound);
                await Task.Delay(10);
            }
            catch (Exception ex) when (ex is not TimeoutException)
            {
                failure = ex;
            }
        }

        Assert.NotNull(failure);
        stream.Reset();

        await using var second = await InProcessGrpcServer.StartAsync(Peer(CancellationToken.None));
        await stream.WriteAsync(channels, $"127.0.0.1:{second.Port}", Batch(100), CancellationToken.None).AsTask().WaitAsync(Bound);
        Assert.Equal(100UL, await received.Reader.ReadAsync().AsTask().WaitAsync(Bound));

        // Abandoning the stream resets it, so the server's handler ends and the server can stop.
        stream.Reset();
    }

    [Fact]
    public async Task A_peer_that_refuses_the_stream_fails_the_write_with_its_status()
    {
        // A peer whose RaftPeer does not serve DeliverStream (the generated base answers
        // UNIMPLEMENTED): the failure surfaces, so the transport resets and reports it unreachable.
        await using var server = await InProcessGrpcServer.StartAsync(new StreamingPeer(null));
        using var channels = new PeerChannels(4 << 20, clusterSecret: null);
        using var stream = new PeerStream();

        // The first writes may be buffered before the server's answer arrives: keep writing (bounded
        // in time) until the answer surfaces.
        RpcException? status = null;
        var cancelled = 0;
        var deadline = DateTime.UtcNow + Bound;
        for (ulong i = 1; status is null && DateTime.UtcNow < deadline; i++)
        {
            try
            {
                await stream.WriteAsync(channels, $"127.0.0.1:{server.Port}", Batch(i), CancellationToken.None).AsTask().WaitAsync(Bound);
                await Task.Delay(10);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled)
            {
                // A write racing the server's answer may see the call ended before its status arrived;
                // the stream was reset, so the next write opens a new call and meets the answer again.
                cancelled++;
            }
            catch (RpcException ex)
            {
                status = ex;
            }
        }

        Assert.True(status is not null, $"no status surfaced within {Bound} ({cancelled} writes saw the call cancelled)");
        Assert.Equal(StatusCode.Unimplemented, status.StatusCode);
    }

    private static RaftMessageBatch Batch(ulong index)
    {
        var batch = new RaftMessageBatch();
        batch.Messages.Add(new RaftMessage { Index = index, From = 1, To = 2, Term = 1 });
        return batch;
    }

    /// <summary>A peer whose DeliverStream runs <paramref name="deliver"/> (null: the generated base's UNIMPLEMENTED).</summary>
    private sealed class StreamingPeer(Func<IAsyncStreamReader<RaftMessageBatch>, ServerCallContext, Task<DeliverResponse>>? deliver) : RaftPeer.RaftPeerBase
    {
        public override Task<DeliverResponse> DeliverStream(IAsyncStreamReader<RaftMessageBatch> requestStream, ServerCallContext context) =>
            deliver is null ? base.DeliverStream(requestStream, context) : deliver(requestStream, context);
    }
}
