using System.Diagnostics;
using System.Globalization;
using HaMaster.Client;
using Grpc.Core;
using Grpc.Net.Client;
using HaMaster.Bench.LeanGrpc;
using HaMaster.Protos.V1;

namespace HaMaster.Bench.Load;

/// <summary>How the simulated clients talk to the masters.</summary>
internal enum FleetClientTransport
{
    /// <summary>
    /// One bare HTTP/2 connection each (bench/HaMaster.Bench.LeanGrpc): no pool, timer or idle
    /// buffer, so 10,000 clients in one process do not make the generator's own GC pauses part of
    /// the figures (the default).
    /// </summary>
    Lean,

    /// <summary>One Grpc.Net.Client <see cref="GrpcChannel"/> (own SocketsHttpHandler) each, as an application would have.</summary>
    Channel,
}

/// <summary>Settings of one fleet-load process (<c>hamaster bench fleet</c>). Immutable; validate before use.</summary>
internal sealed record FleetOptions
{
    /// <summary>Masters' client addresses; client i connects to <c>Endpoints[i % Count]</c>.</summary>
    public IReadOnlyList<string> Endpoints { get; init; } = [];

    /// <summary>Simulated workers this process runs (0 = none). Default 3,000.</summary>
    public int Workers { get; init; } = 3000;

    /// <summary>First worker number: worker k registers as <c>bench-worker-{k}:29999</c>, so processes can split the fleet.</summary>
    public int WorkerBase { get; init; }

    /// <summary>Simulated clients, each with its own HTTP/2 connection (own socket handler). Default 10,000.</summary>
    public int Clients { get; init; } = 10_000;

    /// <summary>Heartbeat period of every worker. Default 1 s.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Period of each client's GetStatus. Default 10 s.</summary>
    public TimeSpan ClientInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Measured phase length (after registration and connection set-up). Default 120 s.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Deadline of one request. Default 10 s.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Client connection kind (default <see cref="FleetClientTransport.Lean"/>).</summary>
    public FleetClientTransport ClientTransport { get; init; } = FleetClientTransport.Lean;

    /// <summary>Path every client reads (created by the process if missing).</summary>
    public string StatusPath { get; init; } = "/bench/fleet/probe";

    public FleetOptions Validate()
    {
        if (Endpoints.Count == 0)
        {
            throw new ArgumentException("At least one endpoint is required.", nameof(Endpoints));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(Workers, nameof(Workers));
        ArgumentOutOfRangeException.ThrowIfNegative(WorkerBase, nameof(WorkerBase));
        ArgumentOutOfRangeException.ThrowIfNegative(Clients, nameof(Clients));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Clients, 100_000, nameof(Clients));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HeartbeatInterval, TimeSpan.Zero, nameof(HeartbeatInterval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ClientInterval, TimeSpan.Zero, nameof(ClientInterval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Duration, TimeSpan.Zero, nameof(Duration));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(CallTimeout, TimeSpan.Zero, nameof(CallTimeout));
        return this;
    }
}

/// <summary>Figures of one fleet-load process (the <c>--json</c> output). Latencies in ms;
/// <c>LoadGcPauseMs</c> is the time this load process itself was paused by its garbage collector
/// during the measured phase (its share of the latencies is the generator's, not the masters').</summary>
internal sealed record FleetReport(
    int Workers,
    int Clients,
    double Seconds,
    long Heartbeats,
    long HeartbeatErrors,
    double HeartbeatP50Ms,
    double HeartbeatP99Ms,
    double HeartbeatMaxMs,
    long StatusCalls,
    long StatusErrors,
    double StatusP50Ms,
    double StatusP99Ms,
    double StatusP999Ms,
    double StatusMaxMs,
    int ConnectedClients,
    long ConnectErrors,
    double ConnectP99Ms,
    double RegisterSeconds,
    double ConnectSeconds,
    double LoadGcPauseMs,
    string? FirstError);

/// <summary>
/// The issue-8 fleet: simulated workers that register (journaled) and then heartbeat periodically,
/// plus simulated clients that each hold their own HTTP/2 connection to one master and issue a
/// linearizable GetStatus periodically. Open loop: a slow answer does not delay the schedule of
/// the other clients, so queueing shows up in the latency figures. Connections are opened before
/// the measured phase (64 at a time, each with a first GetStatus: the connect figures), so a
/// connection storm is not mistaken for the steady state.
/// </summary>
internal static class FleetLoad
{

    public static async ValueTask<FleetReport> RunAsync(FleetOptions options, HaMasterClient client, CancellationToken cancellationToken)
    {
        options.Validate();
        var stats = new FleetStats();
        try
        {
            _ = await client.CreateFileAsync(options.StatusPath, recursive: true, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HaMasterAlreadyExistsException)
        {
            // Another fleet process (or an earlier run) created it: reading it is all that matters.
        }

        // Registration: journaled writes through the normal (retrying, leader-routed) client.
        var registerStarted = Stopwatch.GetTimestamp();
        var workerIds = new ulong[options.Workers];
        await Parallel.ForAsync(0, options.Workers, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var request = new RegisterWorkerRequest { Address = "bench-worker-" + (options.WorkerBase + i).ToString(CultureInfo.InvariantCulture) + ":29999" };
            request.Tiers.Add(new TierUsage { Tier = "MEM", CapacityBytes = 1UL << 34 });
            workerIds[i] = (await client.RegisterWorkerAsync(request, ct).ConfigureAwait(false)).WorkerId;
        }).ConfigureAwait(false);
        var registerSeconds = Stopwatch.GetElapsedTime(registerStarted).TotalSeconds;

        var clients = FleetClients.Open(options);
        try
        {
            // Connection set-up before the measured phase, at a bounded pace (64 at a time): each
            // client opens its own HTTP/2 connection with a first GetStatus (the connect figures).
            var connectStarted = Stopwatch.GetTimestamp();
            var request = new GetStatusRequest { Path = options.StatusPath, Consistency = Consistency.Linearizable };
            await Parallel.ForAsync(0, options.Clients, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken }, async (i, ct) =>
            {
                var begin = Stopwatch.GetTimestamp();
                try
                {
                    await clients.GetStatusAsync(i, request, options.CallTimeout, ct).ConfigureAwait(false);
                    stats.Connect.Record((long)Stopwatch.GetElapsedTime(begin).TotalNanoseconds);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    Interlocked.Increment(ref stats.ConnectErrors);
                    Interlocked.CompareExchange(ref stats.FirstError, "connect: " + ex.Message, null);
                }
            }).ConfigureAwait(false);
            var connectSeconds = Stopwatch.GetElapsedTime(connectStarted).TotalSeconds;

            var started = Stopwatch.GetTimestamp();
            var stopAt = started + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);
            var gcPauseBefore = GC.GetTotalPauseDuration();
            var heartbeat = new WorkerHeartbeatRequest[options.Workers];
            for (var i = 0; i < heartbeat.Length; i++)
            {
                heartbeat[i] = new WorkerHeartbeatRequest { WorkerId = workerIds[i] };
                heartbeat[i].Tiers.Add(new TierUsage { Tier = "MEM", CapacityBytes = 1UL << 34, UsedBytes = workerIds[i] });
            }

            // Workers spread evenly over their period and clients over theirs, each schedule driven
            // by one timer (see PeriodicSchedule); a slow answer delays only its own member.
            await Task.WhenAll(
                PeriodicSchedule.RunAsync(options.Workers, options.HeartbeatInterval, started, stopAt, i => HeartbeatAsync(client, heartbeat[i], stats, cancellationToken), cancellationToken),
                PeriodicSchedule.RunAsync(options.Clients, options.ClientInterval, started, stopAt, i => GetStatusAsync(clients, i, request, options, stats, cancellationToken), cancellationToken)).ConfigureAwait(false);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var gcPause = GC.GetTotalPauseDuration() - gcPauseBefore;
            var (heartbeats, statuses) = (LatencySummary.Of(stats.Heartbeat), LatencySummary.Of(stats.Status));
            return new FleetReport(
                options.Workers,
                options.Clients,
                Math.Round(seconds, 3),
                stats.Heartbeat.Count,
                Interlocked.Read(ref stats.HeartbeatErrors),
                heartbeats.P50Ms,
                heartbeats.P99Ms,
                heartbeats.MaxMs,
                stats.Status.Count,
                Interlocked.Read(ref stats.StatusErrors),
                statuses.P50Ms,
                statuses.P99Ms,
                statuses.P999Ms,
                statuses.MaxMs,
                (int)stats.Connect.Count,
                Interlocked.Read(ref stats.ConnectErrors),
                LatencySummary.Ms(stats.Connect.ValueAtQuantile(0.99)),
                Math.Round(registerSeconds, 3),
                Math.Round(connectSeconds, 3),
                Math.Round(gcPause.TotalMilliseconds, 1),
                stats.FirstError);
        }
        finally
        {
            clients.Dispose();
        }
    }

    private static async Task HeartbeatAsync(HaMasterClient client, WorkerHeartbeatRequest request, FleetStats stats, CancellationToken cancellationToken)
    {
        var begin = Stopwatch.GetTimestamp();
        try
        {
            _ = await client.WorkerHeartbeatAsync(request, cancellationToken).ConfigureAwait(false);
            stats.Heartbeat.Record((long)Stopwatch.GetElapsedTime(begin).TotalNanoseconds);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref stats.HeartbeatErrors);
            Interlocked.CompareExchange(ref stats.FirstError, "heartbeat: " + ex.Message, null);
        }
    }

    private static async Task GetStatusAsync(FleetClients clients, int i, GetStatusRequest request, FleetOptions options, FleetStats stats, CancellationToken cancellationToken)
    {
        var begin = Stopwatch.GetTimestamp();
        try
        {
            await clients.GetStatusAsync(i, request, options.CallTimeout, cancellationToken).ConfigureAwait(false);
            stats.Status.Record((long)Stopwatch.GetElapsedTime(begin).TotalNanoseconds);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref stats.StatusErrors);
            Interlocked.CompareExchange(ref stats.FirstError, "status: " + ex.Message, null);
        }
    }

    /// <summary>The simulated clients' connections, one per client, made one call at a time.</summary>
    private abstract class FleetClients : IDisposable
    {
        public static FleetClients Open(FleetOptions options) => options.ClientTransport == FleetClientTransport.Lean
            ? new LeanClients(options)
            : new ChannelClients(options);

        public abstract ValueTask GetStatusAsync(int i, GetStatusRequest request, TimeSpan timeout, CancellationToken cancellationToken);

        public abstract void Dispose();
    }

    /// <summary>One <see cref="LeanUnaryConnection"/> per client (connected by its first call).</summary>
    private sealed class LeanClients(FleetOptions options) : FleetClients
    {
        private static readonly string GetStatusMethod = "/" + FileSystemMaster.Descriptor.FullName + "/GetStatus";

        private readonly LeanUnaryConnection[] _connections = Enumerable.Range(0, options.Clients).Select(i =>
        {
            var uri = MasterEndpoint.ToUri(options.Endpoints[i % options.Endpoints.Count]);
            return new LeanUnaryConnection(uri.Host, uri.Port);
        }).ToArray();

        public override async ValueTask GetStatusAsync(int i, GetStatusRequest request, TimeSpan timeout, CancellationToken cancellationToken) =>
            _ = await _connections[i].UnaryAsync(GetStatusMethod, request, GetStatusResponse.Parser, timeout, cancellationToken).ConfigureAwait(false);

        public override void Dispose()
        {
            foreach (var c in _connections) c.Dispose();
        }
    }

    /// <summary>One Grpc.Net.Client <see cref="GrpcChannel"/> per client, with its own <see cref="SocketsHttpHandler"/> and a single HTTP/2 connection.</summary>
    private sealed class ChannelClients : FleetClients
    {
        private readonly GrpcChannel[] _channels;
        private readonly FileSystemMaster.FileSystemMasterClient[] _clients;

        public ChannelClients(FleetOptions options)
        {
            var uris = options.Endpoints.Select(MasterEndpoint.ToUri).ToArray();
            _channels = Enumerable.Range(0, options.Clients).Select(i => GrpcChannel.ForAddress(uris[i % uris.Length], new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler
                {
                    EnableMultipleHttp2Connections = false,
                    ConnectTimeout = options.CallTimeout,
                    PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
                    UseProxy = false,
                    UseCookies = false,
                },
                DisposeHttpClient = true,
            })).ToArray();
            _clients = _channels.Select(c => new FileSystemMaster.FileSystemMasterClient(c)).ToArray();
        }

        public override async ValueTask GetStatusAsync(int i, GetStatusRequest request, TimeSpan timeout, CancellationToken cancellationToken) =>
            _ = await _clients[i].GetStatusAsync(request, new CallOptions(deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken)).ConfigureAwait(false);

        public override void Dispose()
        {
            foreach (var c in _channels) c.Dispose();
        }
    }

    private sealed class FleetStats
    {
        public readonly LatencyHistogram Heartbeat = new();
        public readonly LatencyHistogram Status = new();
        public readonly LatencyHistogram Connect = new();
        public long HeartbeatErrors;
        public long StatusErrors;
        public long ConnectErrors;
        public string? FirstError;
    }
}
