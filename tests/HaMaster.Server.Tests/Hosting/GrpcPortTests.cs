using System.Diagnostics;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using HaMaster.Protos.V1;
using HaMaster.Server.Hosting;
using HaMaster.Server.Raft;
using HaMaster.Server.Services;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Tests.Hosting;

/// <summary>
/// What a master's gRPC port promises whatever the service behind it: deadlines and client
/// cancellation reach the handler, the message size limit answers RESOURCE_EXHAUSTED, domain
/// failures leave as the statuses of <see cref="ServerErrors"/>, the caller identity reaches the
/// handler, and shutdown is bounded. A scripted FileSystemMaster stands in for the real one.
/// </summary>
public sealed class GrpcPortTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task The_clients_deadline_is_deadline_exceeded_and_fires_the_handlers_token()
    {
        var service = new ScriptedFileSystem();
        await using var port = await StartAsync(service);
        var client = Client(port, out var channel);
        using (channel)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => client.GetStatusAsync(new GetStatusRequest { Path = "/wait" }, deadline: DateTime.UtcNow.AddMilliseconds(200)).ResponseAsync.WaitAsync(Bound));
            Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
            Assert.Equal("cancelled", await service.Outcome.Task.WaitAsync(Bound));
        }
    }

    [Fact]
    public async Task A_client_cancellation_fires_the_handlers_token()
    {
        var service = new ScriptedFileSystem();
        await using var port = await StartAsync(service);
        var client = Client(port, out var channel);
        using (channel)
        {
            using var cancel = new CancellationTokenSource();
            var call = client.GetStatusAsync(new GetStatusRequest { Path = "/wait" }, cancellationToken: cancel.Token);
            await service.Started.Task.WaitAsync(Bound);
            await cancel.CancelAsync();
            var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Bound));
            Assert.Equal(StatusCode.Cancelled, error.StatusCode);
            Assert.Equal("cancelled", await service.Outcome.Task.WaitAsync(Bound));
        }
    }

    [Theory]
    [InlineData("/not-leader", StatusCode.Unavailable, "election under way")]
    // An ArgumentException escaping a handler is the master's bug (admission checks refuse bad
    // input with their own message): its .NET text stays in the log.
    [InlineData("/bad-argument", StatusCode.Internal, "internal error on the master (see its log)")]
    [InlineData("/bug", StatusCode.Internal, "internal error on the master (see its log)")]
    [InlineData("/refused", StatusCode.NotFound, "/refused does not exist")]
    public async Task Handler_failures_leave_as_the_mapped_status_with_the_reason(string path, StatusCode code, string detail)
    {
        await using var port = await StartAsync(new ScriptedFileSystem());
        var client = Client(port, out var channel);
        using (channel)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => client.GetStatusAsync(new GetStatusRequest { Path = path }, deadline: DateTime.UtcNow + Bound).ResponseAsync);
            Assert.Equal(code, error.StatusCode);
            Assert.Equal(detail, error.Status.Detail);
        }
    }

    [Fact]
    public async Task Messages_over_the_limit_are_resource_exhausted_both_ways_and_the_port_keeps_serving()
    {
        await using var port = await StartAsync(new ScriptedFileSystem(), maxMessageBytes: 4096);
        var client = Client(port, out var channel);
        using (channel)
        {
            var request = await Assert.ThrowsAsync<RpcException>(() => client.GetStatusAsync(new GetStatusRequest { Path = "/" + new string('x', 10_000) }, deadline: DateTime.UtcNow + Bound).ResponseAsync);
            Assert.Equal(StatusCode.ResourceExhausted, request.StatusCode);

            // The handler answers with a 10 KB name: over the server's send limit.
            var response = await Assert.ThrowsAsync<RpcException>(() => client.GetStatusAsync(new GetStatusRequest { Path = "/big-answer" }, deadline: DateTime.UtcNow + Bound).ResponseAsync);
            Assert.Equal(StatusCode.ResourceExhausted, response.StatusCode);

            var ok = await client.GetStatusAsync(new GetStatusRequest { Path = "/" }, deadline: DateTime.UtcNow + Bound);
            Assert.Equal("/", ok.Info.Path);
        }
    }

    [Fact]
    public async Task The_caller_identity_headers_reach_the_handler()
    {
        await using var port = await StartAsync(new ScriptedFileSystem());
        var client = Client(port, out var channel);
        using (channel)
        {
            var headers = new Grpc.Core.Metadata { { CallerIdentity.UserHeader, "alice" }, { CallerIdentity.GroupsHeader, "staff, admins" } };
            var answer = await client.GetStatusAsync(new GetStatusRequest { Path = "/whoami" }, headers, DateTime.UtcNow + Bound);
            Assert.Equal("alice", answer.Info.Owner);
            Assert.Equal("staff", answer.Info.Group);

            var anonymous = await client.GetStatusAsync(new GetStatusRequest { Path = "/whoami" }, deadline: DateTime.UtcNow + Bound);
            Assert.Equal(CallerIdentity.DefaultUser, anonymous.Info.Owner);
        }
    }

    [Fact]
    public async Task Shutdown_lets_a_call_in_flight_finish_and_is_bounded_for_one_that_does_not()
    {
        var service = new ScriptedFileSystem();
        var port = await StartAsync(service, limits: new GrpcPortLimits { ShutdownTimeout = TimeSpan.FromSeconds(1) });
        var client = Client(port, out var channel);
        using (channel)
        {
            var quick = client.GetStatusAsync(new GetStatusRequest { Path = "/slow" }, deadline: DateTime.UtcNow + Bound);
            var stubborn = client.GetStatusAsync(new GetStatusRequest { Path = "/stubborn" }, deadline: DateTime.UtcNow + Bound);
            await service.Started.Task.WaitAsync(Bound);
            var stopping = Stopwatch.StartNew();
            await port.DisposeAsync().AsTask().WaitAsync(Bound);
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"shutdown took {stopping.Elapsed}");
            Assert.Equal("/slow", (await quick.ResponseAsync.WaitAsync(Bound)).Info.Path);
            var error = await Assert.ThrowsAsync<RpcException>(() => stubborn.ResponseAsync.WaitAsync(Bound));
            Assert.NotEqual(StatusCode.OK, error.StatusCode);
        }

        service.ReleaseStubborn();
    }

    [Fact]
    public async Task Calls_start_no_activity_and_write_no_request_lines_while_the_ports_loggers_are_enabled()
    {
        // An enabled hosting logger makes ASP.NET Core start an Activity and a log scope for every
        // call, which a pooled HTTP/2 stream keeps until its connection's next call.
        var lines = new CategoryCollector();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(lines));
        await using var port = await StartAsync(new ScriptedFileSystem(), loggerFactory: loggers);
        var client = Client(port, out var channel);
        using (channel)
        {
            var answer = await client.GetStatusAsync(new GetStatusRequest { Path = "/activity" }, deadline: DateTime.UtcNow + Bound);
            Assert.Equal("none", answer.Info.Name);
        }

        Assert.DoesNotContain(PortLoggerFactory.RequestCategory, lines.Categories);
        // The port's other loggers still reach the factory (Kestrel's, grpc-dotnet's).
        Assert.Contains(lines.Categories, c => c.StartsWith("Microsoft.AspNetCore.Server.Kestrel", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_client_port_does_not_index_response_headers_and_the_peer_port_does()
    {
        var admission = new ClientAdmission(new GrpcPortLimits(), new HaMaster.Server.Observability.RejectionLog(new System.Diagnostics.Metrics.Meter("grpc-port-tests"), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
        await using (var clientPort = await StartAsync(new ScriptedFileSystem(), admission: admission))
        {
            Assert.False(clientPort.ServerOptions.AllowResponseHeaderCompression);
            var client = Client(clientPort, out var channel);
            using (channel)
            {
                // Two calls on one connection: the second's response headers are literals again.
                for (var i = 0; i < 2; i++) Assert.Equal("/", (await client.GetStatusAsync(new GetStatusRequest { Path = "/" }, deadline: DateTime.UtcNow + Bound)).Info.Path);
            }
        }

        await using var peerPort = await StartAsync(new ScriptedFileSystem());
        Assert.True(peerPort.ServerOptions.AllowResponseHeaderCompression);
        await using var compressing = await StartAsync(new ScriptedFileSystem(), limits: new GrpcPortLimits { CompressClientResponseHeaders = true }, admission: admission);
        Assert.True(compressing.ServerOptions.AllowResponseHeaderCompression);
    }

    private static Task<GrpcPort> StartAsync(ScriptedFileSystem service, int maxMessageBytes = 1 << 20, GrpcPortLimits? limits = null, ILoggerFactory? loggerFactory = null, ClientAdmission? admission = null) =>
        GrpcPort.StartAsync(new GrpcPortOptions
        {
            Address = IPAddress.Loopback,
            Port = 0,
            MaxMessageBytes = maxMessageBytes,
            Limits = limits ?? new GrpcPortLimits(),
            LoggerFactory = loggerFactory,
            Admission = admission,
            ConfigureServices = services => services.AddSingleton(service),
            ConfigureGrpc = grpc =>
            {
                grpc.Interceptors.Add<ErrorStatusInterceptor>();
                grpc.Interceptors.Add<CallerIdentityInterceptor>();
            },
            MapServices = app => app.MapGrpcService<ScriptedFileSystem>(),
        }, CancellationToken.None);

    private static FileSystemMaster.FileSystemMasterClient Client(GrpcPort port, out GrpcChannel channel)
    {
        channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port.Port}", new GrpcChannelOptions { MaxReceiveMessageSize = 1 << 20, MaxSendMessageSize = 1 << 20 });
        return new FileSystemMaster.FileSystemMasterClient(channel);
    }

    /// <summary>GetStatus does what the path says.</summary>
    private sealed class ScriptedFileSystem : FileSystemMaster.FileSystemMasterBase
    {
        private readonly TaskCompletionSource _releaseStubborn = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<string> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void ReleaseStubborn() => _releaseStubborn.TrySetResult();

        public override async Task<GetStatusResponse> GetStatus(GetStatusRequest request, ServerCallContext context)
        {
            switch (request.Path)
            {
                case "/wait":
                    Started.TrySetResult();
                    try
                    {
                        await Task.Delay(Timeout.Infinite, context.CancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                        Outcome.TrySetResult("cancelled");
                        throw;
                    }

                    break;
                case "/slow":
                    await Task.Delay(300);
                    break;
                case "/stubborn":
                    Started.TrySetResult();
                    await _releaseStubborn.Task.WaitAsync(TimeSpan.FromSeconds(30));
                    break;
                case "/not-leader":
                    throw new NotLeaderException(0, "election under way");
                case "/bad-argument":
                    throw new ArgumentException("bad limit");
                case "/bug":
                    throw new InvalidOperationException("bug");
                case "/refused":
                    throw ServerErrors.Status(StatusCode.NotFound, "/refused does not exist");
                case "/big-answer":
                    return new GetStatusResponse { Info = new HaMaster.Protos.V1.FileInfo { Path = request.Path, Name = new string('n', 10_000) } };
                case "/activity":
                    return new GetStatusResponse { Info = new HaMaster.Protos.V1.FileInfo { Path = request.Path, Name = Activity.Current is null ? "none" : "activity " + Activity.Current.OperationName } };
                case "/whoami":
                    var caller = CallerIdentity.From(context);
                    return new GetStatusResponse { Info = new HaMaster.Protos.V1.FileInfo { Path = request.Path, Owner = caller.User, Group = caller.Groups[0] } };
            }

            return new GetStatusResponse { Info = new HaMaster.Protos.V1.FileInfo { Path = request.Path } };
        }
    }

    /// <summary>Remembers which categories the port's hosts created loggers for and wrote to.</summary>
    private sealed class CategoryCollector : ILoggerProvider
    {
        private readonly HashSet<string> _categories = [];

        public IReadOnlyCollection<string> Categories
        {
            get
            {
                lock (_categories) return [.. _categories];
            }
        }

        public ILogger CreateLogger(string categoryName)
        {
            lock (_categories) _categories.Add(categoryName);
            return new Collector();
        }

        public void Dispose()
        {
        }

        private sealed class Collector : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
            }
        }
    }
}
