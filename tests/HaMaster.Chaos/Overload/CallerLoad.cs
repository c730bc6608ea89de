using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using HaMaster.Protos.V1;

namespace HaMaster.Chaos.Overload;

/// <summary>Latencies and outcomes of one group of callers.</summary>
public sealed class CallerFigures(string name)
{
    private readonly ConcurrentQueue<double> _servedMs = new();
    private readonly ConcurrentQueue<double> _refusedMs = new();
    private readonly ConcurrentDictionary<StatusCode, long> _byStatus = new();

    public string Name { get; } = name;

    public long Served => _servedMs.Count;

    public long Refused => _refusedMs.Count;

    public long Total => _byStatus.Values.Sum();

    public IReadOnlyDictionary<StatusCode, long> ByStatus => _byStatus;

    internal void Record(StatusCode status, TimeSpan elapsed)
    {
        _byStatus.AddOrUpdate(status, 1, (_, n) => n + 1);
        if (status == StatusCode.OK) _servedMs.Enqueue(elapsed.TotalMilliseconds);
        else if (status is StatusCode.ResourceExhausted or StatusCode.Unavailable) _refusedMs.Enqueue(elapsed.TotalMilliseconds);
    }

    /// <summary>Percentile (0..100) of served calls' latency in ms; 0 when none.</summary>
    public double ServedPercentile(double p) => Percentile(_servedMs, p);

    /// <summary>Percentile of refused (RESOURCE_EXHAUSTED / UNAVAILABLE) calls' latency in ms: how fast excess is turned away.</summary>
    public double RefusedPercentile(double p) => Percentile(_refusedMs, p);

    public override string ToString()
    {
        var statuses = string.Join(", ", _byStatus.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value:N0}"));
        return $"{Name}: {Total:N0} calls ({statuses}); served p50 {ServedPercentile(50):N1} ms, p99 {ServedPercentile(99):N1} ms, max {ServedPercentile(100):N1} ms; " +
            $"refused p99 {RefusedPercentile(99):N1} ms, max {RefusedPercentile(100):N1} ms";
    }

    private static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return 0;
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}

/// <summary>
/// Ordinary gRPC callers (Grpc.Net.Client, one channel per caller, no retries): each runs
/// linearizable GetStatus and CreateFile calls in a closed loop with an optional pause, for a
/// bounded time, and records every call's latency and status.
/// </summary>
public static class CallerLoad
{
    /// <summary>
    /// Runs the callers; <paramref name="source"/> (e.g. 127.0.0.2, any 127.x address is loopback on
    /// Linux) is the address their connections leave from: the master's admission control shares
    /// its calls between remote addresses (unauthenticated callers), so one group of callers can
    /// be told apart from another as if it ran on its own host.
    /// </summary>
    public static async Task<CallerFigures> RunAsync(string name, Uri target, int callers, TimeSpan pause, TimeSpan duration, TimeSpan callDeadline, System.Net.IPAddress? source = null, CancellationToken cancellationToken = default)
    {
        var figures = new CallerFigures(name);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(duration);
        var runId = Guid.NewGuid().ToString("N")[..8];

        async Task OneCallerAsync(int index)
        {
            using var channel = GrpcChannel.ForAddress(target, new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, UseProxy = false, ConnectCallback = source is null ? null : (context, token) => ConnectFromAsync(source, context, token) },
            });
            var client = new FileSystemMaster.FileSystemMasterClient(channel);
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var clock = Stopwatch.StartNew();
                StatusCode status;
                try
                {
                    var deadline = DateTime.UtcNow + callDeadline;
                    if (i % 4 == 3)
                    {
                        await client.CreateFileAsync(new CreateFileRequest { Path = $"/overload-{runId}-{name}-{index}-{i}" }, deadline: deadline);
                    }
                    else
                    {
                        await client.GetStatusAsync(new GetStatusRequest { Path = "/" }, deadline: deadline);
                    }

                    status = StatusCode.OK;
                }
                catch (RpcException e)
                {
                    status = e.StatusCode;
                }

                if (stop.IsCancellationRequested && status == StatusCode.Cancelled) break;
                figures.Record(status, clock.Elapsed);
                if (pause > TimeSpan.Zero) await Task.Delay(pause, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, callers).Select(i => Task.Run(() => OneCallerAsync(i))));
        return figures;
    }

    private static async ValueTask<Stream> ConnectFromAsync(System.Net.IPAddress source, SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new System.Net.IPEndPoint(source, 0));
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
