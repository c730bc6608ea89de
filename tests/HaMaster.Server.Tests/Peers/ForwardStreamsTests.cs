using Google.Protobuf;
using Grpc.Core;
using HaMaster.Protos.V1;
using HaMaster.Server.Peers;
using HaMaster.Server.Raft;
using HaMaster.Server.Services;
using HaMaster.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace HaMaster.Server.Tests.Peers;

/// <summary>
/// Calls a follower forwards to the leader ride one RaftPeer/ForwardStream (ForwardStreams on the
/// follower, ForwardStreamServer on the leader): answers and refusals reach their own callers, a
/// broken stream fails only what was waiting on it (outcome unknown) and the next call reconnects,
/// and a leader without the method (an older master) is served by unary Forward calls.
/// </summary>
public sealed class ForwardStreamsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Concurrent_calls_share_one_stream_and_each_gets_its_own_answer()
    {
        var leader = new FakeLeader();
        await using var rig = await Rig.StartAsync(leader);
        var (streams, address) = (rig.Streams, rig.Address);

        var answers = await Task.WhenAll(Enumerable.Range(1, 200).Select(i => EchoAsync(streams, address, (ulong)i))).WaitAsync(Bound);

        Assert.Equal(Enumerable.Range(1, 200).Select(i => (ulong)i), answers);
        Assert.Equal(1, leader.Streams);
        Assert.Equal(0, leader.UnaryCalls);
    }

    [Fact]
    public async Task A_refusal_keeps_its_status_and_message_and_the_stream_serves_on()
    {
        var leader = new FakeLeader();
        await using var rig = await Rig.StartAsync(leader);
        var (streams, address) = (rig.Streams, rig.Address);

        var notLeader = await Assert.ThrowsAsync<RpcException>(() => CallAsync(streams, address, "/not-leader"));
        Assert.Equal(StatusCode.Unavailable, notLeader.StatusCode);
        Assert.Equal("master 2 leads now", notLeader.Status.Detail);
        var refused = await Assert.ThrowsAsync<RpcException>(() => CallAsync(streams, address, "/refuse"));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Equal("invalid path: empty", refused.Status.Detail);
        // A bug of the leader: its text stays in the leader's log.
        var bug = await Assert.ThrowsAsync<RpcException>(() => CallAsync(streams, address, "/bug"));
        Assert.Equal(StatusCode.Internal, bug.StatusCode);
        Assert.DoesNotContain("secret", bug.Status.Detail, StringComparison.Ordinal);

        Assert.Equal(7UL, await EchoAsync(streams, address, 7).WaitAsync(Bound));
        Assert.Equal(1, leader.Streams);
    }

    [Fact]
    public async Task Calls_waiting_when_the_stream_breaks_fail_as_outcome_unknown_and_the_next_call_reconnects()
    {
        var leader = new FakeLeader();
        await using var rig = await Rig.StartAsync(leader);
        var (streams, address) = (rig.Streams, rig.Address);

        var waiting = Enumerable.Range(0, 3).Select(_ => CallAsync(streams, address, "/hang")).ToList();
        for (var i = 0; i < 3; i++) await leader.HangStarted.Reader.ReadAsync().AsTask().WaitAsync(Bound);
        await leader.BreakFirstStream.CancelAsync();

        foreach (var call in waiting)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(Bound));
            Assert.Equal(StatusCode.Unavailable, error.StatusCode);
            Assert.Contains("outcome is unknown", error.Status.Detail, StringComparison.Ordinal);
        }

        // The leader cancelled the handlers of the calls nobody waits for any more.
        for (var i = 0; i < 3; i++) await leader.HangCancelled.Reader.ReadAsync().AsTask().WaitAsync(Bound);

        Assert.Equal(9UL, await EchoAsync(streams, address, 9).WaitAsync(Bound));
        Assert.Equal(2, leader.Streams);
    }

    [Fact]
    public async Task A_caller_that_gives_up_is_cancelled_and_the_stream_serves_on()
    {
        var leader = new FakeLeader();
        await using var rig = await Rig.StartAsync(leader);
        var (streams, address) = (rig.Streams, rig.Address);

        using var giveUp = new CancellationTokenSource();
        var call = CallAsync(streams, address, "/hang", cancellationToken: giveUp.Token);
        await leader.HangStarted.Reader.ReadAsync().AsTask().WaitAsync(Bound);
        await giveUp.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(Bound));
        Assert.Equal(3UL, await EchoAsync(streams, address, 3).WaitAsync(Bound));
        Assert.Equal(1, leader.Streams);
    }

    [Fact]
    public async Task A_leader_without_ForwardStream_is_served_by_unary_Forward_calls()
    {
        var leader = new FakeLeader(streaming: false);
        await using var rig = await Rig.StartAsync(leader);
        var (streams, address) = (rig.Streams, rig.Address);

        // The first calls wait on the stream the leader refuses (UNIMPLEMENTED), then go as unary calls.
        var answers = await Task.WhenAll(Enumerable.Range(1, 20).Select(i => EchoAsync(streams, address, (ulong)i))).WaitAsync(Bound);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (ulong)i), answers);
        Assert.Equal(21UL, await EchoAsync(streams, address, 21).WaitAsync(Bound));
        var refused = await Assert.ThrowsAsync<RpcException>(() => CallAsync(streams, address, "/refuse"));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);

        Assert.Equal(22, leader.UnaryCalls);
    }

    [Fact]
    public async Task Calls_beyond_the_leaders_cap_per_stream_are_refused_and_the_stream_serves_on()
    {
        var leader = new FakeLeader(maxInProgress: 2);
        await using var rig = await Rig.StartAsync(leader);
        var (streams, address) = (rig.Streams, rig.Address);

        var running = Enumerable.Range(0, 2).Select(_ => CallAsync(streams, address, "/hang")).ToList();
        for (var i = 0; i < 2; i++) await leader.HangStarted.Reader.ReadAsync().AsTask().WaitAsync(Bound);

        var refused = await Assert.ThrowsAsync<RpcException>(() => EchoAsync(streams, address, 1).WaitAsync(Bound));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("already runs 2 calls", refused.Status.Detail, StringComparison.Ordinal);

        // A slot frees when a running call ends: the leader serves the next call on the same stream.
        await leader.BreakHang.CancelAsync();
        for (var i = 0; i < 2; i++) await leader.HangCancelled.Reader.ReadAsync().AsTask().WaitAsync(Bound);
        foreach (var call in running) await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(Bound));
        Assert.Equal(2UL, await EchoAsync(streams, address, 2).WaitAsync(Bound));
        Assert.Equal(1, leader.Streams);
    }

    [Fact]
    public async Task A_request_too_large_to_forward_fails_alone()
    {
        var leader = new FakeLeader();
        await using var rig = await Rig.StartAsync(leader, 64 << 10);
        var (streams, address) = (rig.Streams, rig.Address);

        var small = EchoAsync(streams, address, 5);
        var large = new ForwardRequest { Method = "/echo", User = "6", Request = ByteString.CopyFrom(new byte[70 << 10]) };
        var error = await Assert.ThrowsAsync<RpcException>(() => streams.CallAsync(address, large, Bound, CancellationToken.None));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("too large to forward", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(5UL, await small.WaitAsync(Bound));
    }

    private static async Task<ulong> EchoAsync(ForwardStreams streams, string address, ulong value)
    {
        var response = await CallAsync(streams, address, "/echo", value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return LocalStatusResponse.Parser.ParseFrom(response.Response).Id;
    }

    private static Task<ForwardResponse> CallAsync(ForwardStreams streams, string address, string method, string user = "", CancellationToken cancellationToken = default) =>
        streams.CallAsync(address, new ForwardRequest { Method = method, User = user }, Bound, cancellationToken);

    /// <summary>A fake leader on 127.0.0.1 and a follower's ForwardStreams to it.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        private InProcessGrpcServer? _server;
        private PeerChannels? _channels;

        public ForwardStreams Streams { get; private set; } = null!;

        public string Address { get; private set; } = "";

        public static async Task<Rig> StartAsync(FakeLeader leader, int maxMessageBytes = 4 << 20)
        {
            var rig = new Rig { _server = await InProcessGrpcServer.StartAsync(leader) };
            rig._channels = new PeerChannels(maxMessageBytes, clusterSecret: null);
            rig.Streams = new ForwardStreams(rig._channels, maxMessageBytes, NullLogger.Instance);
            rig.Address = $"127.0.0.1:{rig._server.Port}";
            return rig;
        }

        public async ValueTask DisposeAsync()
        {
            Streams.Dispose();
            _channels?.Dispose();
            if (_server is not null) await _server.DisposeAsync();
        }
    }

    /// <summary>A leader's peer service whose forwarded calls are scripted by method name.</summary>
    private sealed class FakeLeader(bool streaming = true, int maxInProgress = ForwardStreamServer.DefaultMaxInProgress) : RaftPeer.RaftPeerBase
    {
        private int _streams;
        private int _unaryCalls;

        public int Streams => Volatile.Read(ref _streams);

        public int UnaryCalls => Volatile.Read(ref _unaryCalls);

        /// <summary>Ends the first stream as a master's shutdown would; later streams are not affected.</summary>
        public CancellationTokenSource BreakFirstStream { get; } = new();

        public System.Threading.Channels.Channel<bool> HangStarted { get; } = System.Threading.Channels.Channel.CreateUnbounded<bool>();

        /// <summary>Ends every hanging call with a refusal (as a handler that gives up would).</summary>
        public CancellationTokenSource BreakHang { get; } = new();

        public System.Threading.Channels.Channel<bool> HangCancelled { get; } = System.Threading.Channels.Channel.CreateUnbounded<bool>();

        public override Task ForwardStream(IAsyncStreamReader<ForwardBatch> requestStream, IServerStreamWriter<ForwardReplyBatch> responseStream, ServerCallContext context)
        {
            if (!streaming) return base.ForwardStream(requestStream, responseStream, context);
            var stopping = Interlocked.Increment(ref _streams) == 1 ? BreakFirstStream.Token : CancellationToken.None;
            return new ForwardStreamServer(InvokeAsync, 4 << 20, NullLogger.Instance, stopping, maxInProgress).ServeAsync(requestStream, responseStream, context);
        }

        public override async Task<ForwardResponse> Forward(ForwardRequest request, ServerCallContext context)
        {
            Interlocked.Increment(ref _unaryCalls);
            try
            {
                return new ForwardResponse { Response = (await InvokeAsync(request, context.CancellationToken)).ToByteString() };
            }
            catch (Exception e) when (e is not RpcException)
            {
                throw ServerErrors.ToRpc(e);
            }
        }

        private async Task<IMessage> InvokeAsync(ForwardRequest request, CancellationToken cancellationToken)
        {
            switch (request.Method)
            {
                case "/echo":
                    await Task.Yield();
                    return new LocalStatusResponse { Id = ulong.Parse(request.User, System.Globalization.CultureInfo.InvariantCulture) };
                case "/not-leader":
                    throw new NotLeaderException(2, "master 2 leads now");
                case "/refuse":
                    throw new RpcException(new Status(StatusCode.InvalidArgument, "invalid path: empty"));
                case "/bug":
                    throw new InvalidOperationException("secret internals");
                case "/hang":
                    HangStarted.Writer.TryWrite(true);
                    try
                    {
                        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, BreakHang.Token);
                        await Task.Delay(Timeout.Infinite, either.Token);
                    }
                    catch (OperationCanceledException) when (BreakHang.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                    {
                        throw new RpcException(new Status(StatusCode.Aborted, "gave up"));
                    }
                    finally
                    {
                        HangCancelled.Writer.TryWrite(true);
                    }

                    throw new InvalidOperationException("unreachable");
                default:
                    throw new RpcException(new Status(StatusCode.Unimplemented, request.Method));
            }
        }
    }
}
