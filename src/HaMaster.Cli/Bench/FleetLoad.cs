using System.Diagnostics;
using System.Globalization;
using HaMaster.Client;
using HaMaster.Grpc;
using HaMaster.Protos.V1;

namespace HaMaster.Cli.Bench;

/// <summary>Settings of one fleet-load process (<c>hamaster bench fleet</c>). Immutable; validate before use.</summary>
public sealed record FleetOptions
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

/// <summary>Figures of one fleet-load process (the <c>--json</c> output). Latencies in ms.</summary>
public sealed record FleetReport(
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
    string? FirstError);

/// <summary>
/// The issue-8 fleet: simulated workers that register (journaled) and then heartbeat periodically,
/// plus simulated clients that each hold their own HTTP/2 connection to one master and issue a
/// linearizable GetStatus periodically. Open loop: a slow answer does not delay the schedule of
/// the other clients, so queueing shows up in the latency figures. Connections are opened before
/// the measured phase (64 at a time, each with a first GetStatus: the connect figures), so a
/// connection storm is not mistaken for the steady state.
/// </summary>
public static class FleetLoad
{
    private const string GetStatusMethod = "/hamaster.v1.FileSystemMaster/GetStatus";

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

        var channels = new GrpcChannel[options.Clients];
        var channelOptions = new GrpcChannelOptions { EnableMultipleHttp2Connections = false, ConnectTimeout = options.CallTimeout, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10) };
        for (var i = 0; i < channels.Length; i++)
        {
            channels[i] = new GrpcChannel(MasterEndpoint.ToUri(options.Endpoints[i % options.Endpoints.Count]), channelOptions);
        }

        try
        {
            // Connection set-up before the measured phase, at a bounded pace (64 at a time): each
            // client opens its own HTTP/2 connection with a first GetStatus (the connect figures).
            var connectStarted = Stopwatch.GetTimestamp();
            var request = new GetStatusRequest { Path = options.StatusPath, Consistency = Consistency.Linearizable };
            await Parallel.ForAsync(0, channels.Length, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken }, async (i, ct) =>
            {
                var begin = Stopwatch.GetTimestamp();
                try
                {
                    _ = await channels[i].UnaryAsync(GetStatusMethod, request, GetStatusResponse.Parser, new CallOptions { Timeout = options.CallTimeout, CancellationToken = ct }).ConfigureAwait(false);
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
            var tasks = new List<Task>(options.Workers + options.Clients);
            for (var i = 0; i < options.Workers; i++)
            {
                var id = workerIds[i];
                var phase = TimeSpan.FromTicks((long)(options.HeartbeatInterval.Ticks * (i / (double)Math.Max(1, options.Workers))));
                tasks.Add(HeartbeatLoopAsync(client, id, phase, options, stats, stopAt, cancellationToken));
            }

            for (var i = 0; i < channels.Length; i++)
            {
                // Clients spread evenly over the period, so connections open at a steady pace.
                var phase = TimeSpan.FromTicks((long)(options.ClientInterval.Ticks * (i / (double)Math.Max(1, channels.Length))));
                tasks.Add(ClientLoopAsync(channels[i], phase, options, stats, stopAt, cancellationToken));
            }

            await Task.WhenAll(tasks).ConfigureAwait(false);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            static double Ms(long ns) => Math.Round(ns / 1e6, 3);
            return new FleetReport(
                options.Workers,
                options.Clients,
                Math.Round(seconds, 3),
                stats.Heartbeat.Count,
                Interlocked.Read(ref stats.HeartbeatErrors),
                Ms(stats.Heartbeat.ValueAtQuantile(0.5)),
                Ms(stats.Heartbeat.ValueAtQuantile(0.99)),
                Ms(stats.Heartbeat.Max),
                stats.Status.Count,
                Interlocked.Read(ref stats.StatusErrors),
                Ms(stats.Status.ValueAtQuantile(0.5)),
                Ms(stats.Status.ValueAtQuantile(0.99)),
                Ms(stats.Status.ValueAtQuantile(0.999)),
                Ms(stats.Status.Max),
                (int)stats.Connect.Count,
                Interlocked.Read(ref stats.ConnectErrors),
                Ms(stats.Connect.ValueAtQuantile(0.99)),
                Math.Round(registerSeconds, 3),
                Math.Round(connectSeconds, 3),
                stats.FirstError);
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }
    }

    private static async Task HeartbeatLoopAsync(HaMasterClient client, ulong workerId, TimeSpan phase, FleetOptions options, FleetStats stats, long stopAt, CancellationToken cancellationToken)
    {
        await Task.Delay(phase, cancellationToken).ConfigureAwait(false);
        var request = new WorkerHeartbeatRequest { WorkerId = workerId };
        request.Tiers.Add(new TierUsage { Tier = "MEM", CapacityBytes = 1UL << 34, UsedBytes = workerId });
        using var timer = new PeriodicTimer(options.HeartbeatInterval);
        do
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
        while (Stopwatch.GetTimestamp() < stopAt && await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    private static async Task ClientLoopAsync(GrpcChannel channel, TimeSpan phase, FleetOptions options, FleetStats stats, long stopAt, CancellationToken cancellationToken)
    {
        await Task.Delay(phase, cancellationToken).ConfigureAwait(false);
        var request = new GetStatusRequest { Path = options.StatusPath, Consistency = Consistency.Linearizable };
        var callOptions = new CallOptions { Timeout = options.CallTimeout, CancellationToken = cancellationToken };
        using var timer = new PeriodicTimer(options.ClientInterval);
        do
        {
            var begin = Stopwatch.GetTimestamp();
            try
            {
                _ = await channel.UnaryAsync(GetStatusMethod, request, GetStatusResponse.Parser, callOptions).ConfigureAwait(false);
                stats.Status.Record((long)Stopwatch.GetElapsedTime(begin).TotalNanoseconds);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref stats.StatusErrors);
                Interlocked.CompareExchange(ref stats.FirstError, "status: " + ex.Message, null);
            }
        }
        while (Stopwatch.GetTimestamp() < stopAt && await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
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
