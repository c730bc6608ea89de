using System.Buffers.Binary;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using Grpc.Core;
using Grpc.Net.Client;
using HaMaster.Protos.V1;
using HaMaster.Server.Hosting;
using HaMaster.Server.Observability;
using HaMaster.Server.Services;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace HaMaster.Server.Tests.Hosting;

/// <summary>
/// The client port's admission control (issue 17): calls over the in-progress limit are refused
/// at once, not queued; a caller that announces a large message and sends part of it cannot
/// make the master hold more than its byte budget, and the bytes are returned when the call
/// ends; a connection that holds more than its own budget is closed; a stalled request body is
/// refused after the body timeout; every refusal is counted by reason.
/// </summary>
public sealed class ClientAdmissionTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);
    private readonly Meter _meter = new("HaMaster.Tests.Admission." + Guid.NewGuid().ToString("N"));
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _rejected = [];

    public ClientAdmissionTests()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == _meter && instrument.Name == "hamaster_rejected_calls") listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key != "reason") continue;
                lock (_rejected)
                {
                    _rejected[(string)tag.Value!] = _rejected.GetValueOrDefault((string)tag.Value!) + value;
                }
            }
        });
        _listener.Start();
    }

    public void Dispose()
    {
        _listener.Dispose();
        _meter.Dispose();
    }

    [Fact]
    public async Task Calls_over_the_limit_are_refused_at_once_and_served_again_when_calls_finish()
    {
        var service = new HeldFileSystem();
        var (port, admission) = await StartAsync(service, new GrpcPortLimits { MaxCallsInProgress = 2 });
        await using var _ = port;
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port.Port}");
        var client = new FileSystemMaster.FileSystemMasterClient(channel);

        var held = new[] { client.GetStatusAsync(new GetStatusRequest { Path = "/hold" }), client.GetStatusAsync(new GetStatusRequest { Path = "/hold" }) };
        await service.WaitHeldAsync(2).WaitAsync(Bound);
        Assert.Equal(2, admission.InProgress);

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RpcException>(() => client.GetStatusAsync(new GetStatusRequest { Path = "/" }).ResponseAsync.WaitAsync(Bound));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("limit of 2 calls", error.Status.Detail, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the refusal took {clock.Elapsed}");
        Assert.Equal(1, Rejected(ClientAdmission.ReasonCallsInProgress));

        service.Release();
        foreach (var call in held) Assert.Equal("/hold", (await call.ResponseAsync.WaitAsync(Bound)).Info.Path);
        Assert.Equal("/", (await client.GetStatusAsync(new GetStatusRequest { Path = "/" }).ResponseAsync.WaitAsync(Bound)).Info.Path);
        Assert.Equal(0, admission.InProgress);
    }

    [Fact]
    public async Task Half_sent_large_messages_cannot_hold_more_than_the_masters_byte_budget()
    {
        var service = new HeldFileSystem();
        var limits = new GrpcPortLimits { MaxBufferedRequestBytes = 512 << 10, MaxBufferedRequestBytesPerConnection = 64L << 20, BufferedBytesAlwaysAllowed = 16 << 10 };
        var (port, admission) = await StartAsync(service, limits, maxMessageBytes: 8 << 20);
        await using var _ = port;

        // Eight streams, each announcing 4 MiB and sending 256 KiB: together twice the budget.
        using var http = RawHttp();
        var stalls = Enumerable.Range(0, 8).Select(_ => SendPartAsync(http, port.Port, announced: 4 << 20, sent: 256 << 10)).ToList();
        // 256 KiB + the prefix each: one fits in the budget; the other seven are refused as they
        // arrive (the one admitted waits for the rest of its message).
        await Eventually(() => stalls.Count(s => s.Answer.IsCompleted) >= 7);
        var refused = 0;
        foreach (var stall in stalls.Where(s => s.Answer.IsCompleted))
        {
            var answer = await stall.Answer;
            Assert.Equal(StatusCode.ResourceExhausted, answer.Status);
            Assert.Contains("bytes of unfinished request messages", answer.Message, StringComparison.Ordinal);
            refused++;
        }

        Assert.Equal(7, refused);
        Assert.True(admission.BufferedBytes <= limits.MaxBufferedRequestBytes, $"{admission.BufferedBytes} bytes held");
        Assert.Equal(7, Rejected(ClientAdmission.ReasonBufferedBytes));

        // Small calls are still served while the budget is spent.
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port.Port}");
        var client = new FileSystemMaster.FileSystemMasterClient(channel);
        Assert.Equal("/", (await client.GetStatusAsync(new GetStatusRequest { Path = "/" }).ResponseAsync.WaitAsync(Bound)).Info.Path);

        // When the stalled calls end (here: the client gives up), their bytes are returned.
        foreach (var stall in stalls) stall.Abandon();
        await Eventually(() => admission.BufferedBytes == 0 && admission.InProgress == 0);
    }

    [Fact]
    public async Task A_connection_over_its_own_byte_budget_is_closed_and_others_are_served()
    {
        var service = new HeldFileSystem();
        var limits = new GrpcPortLimits { MaxBufferedRequestBytesPerConnection = 256 << 10, BufferedBytesAlwaysAllowed = 16 << 10 };
        var (port, admission) = await StartAsync(service, limits, maxMessageBytes: 8 << 20);
        await using var _ = port;

        using var http = RawHttp();
        var stalls = Enumerable.Range(0, 4).Select(_ => SendPartAsync(http, port.Port, announced: 4 << 20, sent: 128 << 10)).ToList();
        foreach (var stall in stalls)
        {
            // Closed connection: a refusal, or the stream simply fails.
            await stall.Answer.WaitAsync(Bound);
        }

        Assert.InRange(Rejected(ClientAdmission.ReasonConnectionBytes), 1, 4);
        await Eventually(() => admission.BufferedBytes == 0 && admission.InProgress == 0);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port.Port}");
        var client = new FileSystemMaster.FileSystemMasterClient(channel);
        Assert.Equal("/", (await client.GetStatusAsync(new GetStatusRequest { Path = "/" }).ResponseAsync.WaitAsync(Bound)).Info.Path);
    }

    [Fact]
    public async Task A_request_body_that_stalls_is_refused_after_the_body_timeout()
    {
        var service = new HeldFileSystem();
        var (port, admission) = await StartAsync(service, new GrpcPortLimits { RequestBodyTimeout = TimeSpan.FromSeconds(1) });
        await using var _ = port;
        using var http = RawHttp();
        var stall = SendPartAsync(http, port.Port, announced: 1000, sent: 10);
        var answer = await stall.Answer.WaitAsync(Bound);
        Assert.Equal(StatusCode.ResourceExhausted, answer.Status);
        Assert.Contains("did not arrive within 1 s", answer.Message, StringComparison.Ordinal);
        Assert.Equal(1, Rejected(ClientAdmission.ReasonBodyTimeout));
        stall.Abandon();
        await Eventually(() => admission.InProgress == 0);
    }

    [Fact]
    public void A_caller_within_its_fair_share_is_admitted_while_a_flooding_caller_is_refused()
    {
        var admission = new ClientAdmission(new GrpcPortLimits { MaxCallsInProgress = 16 }, new RejectionLog(_meter, NullLogger.Instance));
        Assert.Equal(12, admission.CallerCap);

        // Alone, the flooder may take the cap (3/4 of the limit), never the whole limit.
        for (var i = 0; i < 12; i++) admission.EnterCall("flooder");
        var capped = Assert.Throws<RpcException>(() => admission.EnterCall("flooder"));
        Assert.Equal(StatusCode.ResourceExhausted, capped.StatusCode);
        Assert.Contains("the most one caller may hold (12 of the master's 16)", capped.Status.Detail, StringComparison.Ordinal);

        // Callers within their share (16 / 3 active) are admitted while the flooder is refused.
        for (var i = 0; i < 2; i++) admission.EnterCall("alice");
        admission.EnterCall("bob");
        Assert.Throws<RpcException>(() => admission.EnterCall("flooder"));
        admission.EnterCall("bob");
        Assert.Equal(16, admission.InProgress);

        // At the master's limit nobody is admitted, whatever its share.
        var full = Assert.Throws<RpcException>(() => admission.EnterCall("carol"));
        Assert.Contains("limit of 16 calls", full.Status.Detail, StringComparison.Ordinal);

        // Slots the flooder frees go to callers under their share; the flooder, over its share
        // (16 / 3) while 12 or more calls are in progress, gets none of them back.
        for (var i = 0; i < 4; i++) admission.ExitCall("flooder");
        var share = Assert.Throws<RpcException>(() => admission.EnterCall("flooder"));
        Assert.Contains("its fair share of the master's 16 while 3 callers are active", share.Status.Detail, StringComparison.Ordinal);
        admission.EnterCall("alice");
        admission.EnterCall("alice");
        admission.EnterCall("carol");
        Assert.Equal(4, admission.ActiveCallers);
        Assert.Equal(3, Rejected(ClientAdmission.ReasonCallerShare));
        Assert.Equal(1, Rejected(ClientAdmission.ReasonCallsInProgress));

        // Only callers holding calls are remembered.
        for (var i = 0; i < 8; i++) admission.ExitCall("flooder");
        for (var i = 0; i < 4; i++) admission.ExitCall("alice");
        for (var i = 0; i < 2; i++) admission.ExitCall("bob");
        admission.ExitCall("carol");
        Assert.Equal(0, admission.InProgress);
        Assert.Equal(0, admission.ActiveCallers);
    }

    [Fact]
    public void Many_distinct_callers_share_the_limit_and_are_forgotten_when_done()
    {
        var admission = new ClientAdmission(new GrpcPortLimits { MaxCallsInProgress = 100 }, new RejectionLog(_meter, NullLogger.Instance));
        var admitted = new List<string>();
        var refused = 0;
        for (var i = 0; i < 1_000; i++)
        {
            var caller = $"address 10.0.{i / 250}.{i % 250}";
            try
            {
                admission.EnterCall(caller);
                admitted.Add(caller);
            }
            catch (RpcException)
            {
                refused++;
            }
        }

        Assert.Equal(100, admitted.Count);
        Assert.Equal(900, refused);
        Assert.Equal(100, admission.ActiveCallers);
        foreach (var caller in admitted) admission.ExitCall(caller);
        Assert.Equal(0, admission.ActiveCallers);
        Assert.Equal(0, admission.InProgress);
    }

    [Fact]
    public async Task A_caller_from_another_address_is_served_while_one_address_floods_the_port()
    {
        var service = new HeldFileSystem();
        var (port, admission) = await StartAsync(service, new GrpcPortLimits { MaxCallsInProgress = 8 });
        await using var _ = port;

        // The flooder (127.0.0.1) opens 20 calls that the service holds: it gets the cap (6), the rest is refused at once.
        using var floodChannel = GrpcChannel.ForAddress($"http://127.0.0.1:{port.Port}");
        var flooder = new FileSystemMaster.FileSystemMasterClient(floodChannel);
        var flood = Enumerable.Range(0, 20).Select(_ => flooder.GetStatusAsync(new GetStatusRequest { Path = "/hold" }).ResponseAsync).ToList();
        await service.WaitHeldAsync(6).WaitAsync(Bound);
        await Eventually(() => flood.Count(c => c.IsCompleted) == 14);
        foreach (var refusal in flood.Where(c => c.IsCompleted))
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => refusal);
            Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
            Assert.Contains("the most one caller may hold (6 of the master's 8)", error.Status.Detail, StringComparison.Ordinal);
        }

        // A caller from 127.0.0.2 (another remote address: another caller) is within its share and served.
        using var otherChannel = GrpcChannel.ForAddress($"http://127.0.0.1:{port.Port}", new GrpcChannelOptions { HttpHandler = FromAddress(IPAddress.Parse("127.0.0.2")) });
        var other = new FileSystemMaster.FileSystemMasterClient(otherChannel);
        var otherHeld = other.GetStatusAsync(new GetStatusRequest { Path = "/hold" }).ResponseAsync;
        await service.WaitHeldAsync(7).WaitAsync(Bound);
        Assert.Equal("/", (await other.GetStatusAsync(new GetStatusRequest { Path = "/" }).ResponseAsync.WaitAsync(Bound)).Info.Path);

        // The flooder stays refused although the master is under its limit (7 of 8): over its share.
        var again = await Assert.ThrowsAsync<RpcException>(() => flooder.GetStatusAsync(new GetStatusRequest { Path = "/" }).ResponseAsync.WaitAsync(Bound));
        Assert.Equal(StatusCode.ResourceExhausted, again.StatusCode);
        Assert.Equal(2, admission.ActiveCallers);

        service.Release();
        await otherHeld.WaitAsync(Bound);
        foreach (var call in flood.Where(c => !c.IsFaulted)) await call.WaitAsync(Bound);
        await Eventually(() => admission.InProgress == 0 && admission.ActiveCallers == 0);
        Assert.Equal(15, Rejected(ClientAdmission.ReasonCallerShare));
    }

    /// <summary>An HTTP/2 handler whose connections leave from <paramref name="source"/> (any 127.x address is loopback on Linux).</summary>
    private static SocketsHttpHandler FromAddress(IPAddress source) => new()
    {
        UseProxy = false,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    private long Rejected(string reason)
    {
        lock (_rejected)
        {
            return _rejected.GetValueOrDefault(reason);
        }
    }

    private static async Task Eventually(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Bound, "condition not met in time");
            await Task.Delay(20);
        }
    }

    private async Task<(GrpcPort Port, ClientAdmission Admission)> StartAsync(HeldFileSystem service, GrpcPortLimits limits, int maxMessageBytes = 1 << 20)
    {
        var admission = new ClientAdmission(limits, new RejectionLog(_meter, NullLogger.Instance));
        var port = await GrpcPort.StartAsync(new GrpcPortOptions
        {
            Address = IPAddress.Loopback,
            Port = 0,
            MaxMessageBytes = maxMessageBytes,
            Limits = limits,
            Admission = admission,
            ConfigureServices = services =>
            {
                services.AddSingleton(service);
                services.AddSingleton(new AdmissionInterceptor(admission));
            },
            ConfigureGrpc = grpc =>
            {
                grpc.Interceptors.Add<AdmissionInterceptor>();
                grpc.Interceptors.Add<ErrorStatusInterceptor>();
            },
            MapServices = app => app.MapGrpcService<HeldFileSystem>(),
        }, CancellationToken.None);
        return (port, admission);
    }

    private static HttpClient RawHttp() => new(new SocketsHttpHandler { UseProxy = false, EnableMultipleHttp2Connections = false })
    {
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>A GetStatus call whose message claims <paramref name="announced"/> bytes but only <paramref name="sent"/> follow; then the upload stalls.</summary>
    private static StalledCall SendPartAsync(HttpClient http, int port, int announced, int sent)
    {
        var content = new StallingContent(announced, sent);
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"http://127.0.0.1:{port}/hamaster.v1.FileSystemMaster/GetStatus"))
        {
            Content = content,
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        var abandon = new CancellationTokenSource();
        async Task<(StatusCode, string)> AnswerAsync()
        {
            try
            {
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, abandon.Token);
                _ = await response.Content.ReadAsByteArrayAsync(abandon.Token);
                var source = response.Headers.NonValidated.Contains("grpc-status") ? response.Headers.NonValidated : response.TrailingHeaders.NonValidated;
                var status = source.TryGetValues("grpc-status", out var s) ? (StatusCode)int.Parse(s.ToString(), System.Globalization.CultureInfo.InvariantCulture) : StatusCode.Unknown;
                var message = source.TryGetValues("grpc-message", out var m) ? Uri.UnescapeDataString(m.ToString()) : "";
                return (status, message);
            }
            catch (HttpRequestException e)
            {
                return (StatusCode.Unavailable, e.Message);
            }
        }

        return new StalledCall(AnswerAsync(), content, abandon);
    }

    private sealed record StalledCall(Task<(StatusCode Status, string Message)> Answer, StallingContent Content, CancellationTokenSource Cancel)
    {
        public void Abandon()
        {
            Content.Release();
            Cancel.Cancel();
        }
    }

    private sealed class StallingContent(int announced, int sent) : HttpContent
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _release.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var bytes = new byte[5 + sent];
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(1), (uint)announced);
            try
            {
                await stream.WriteAsync(bytes);
                await stream.FlushAsync();
                await _release.Task;
            }
            catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException or ObjectDisposedException)
            {
            }

            // Never completes the message: the stream ends (or is reset) with it half-sent.
            throw new IOException("upload abandoned");
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }

    /// <summary>GetStatus answers at once, except "/hold", which waits for <see cref="Release"/>.</summary>
    private sealed class HeldFileSystem : FileSystemMaster.FileSystemMasterBase
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _held;

        public void Release() => _release.TrySetResult();

        public async Task WaitHeldAsync(int count)
        {
            var clock = Stopwatch.StartNew();
            while (Volatile.Read(ref _held) < count && clock.Elapsed < Bound) await Task.Delay(10);
        }

        public override async Task<GetStatusResponse> GetStatus(GetStatusRequest request, ServerCallContext context)
        {
            if (request.Path == "/hold")
            {
                Interlocked.Increment(ref _held);
                await _release.Task.WaitAsync(context.CancellationToken);
            }

            return new GetStatusResponse { Info = new HaMaster.Protos.V1.FileInfo { Path = request.Path } };
        }
    }
}
