using System.Diagnostics;
using System.Globalization;
using HaMaster.Client;
using HaMaster.Protos.V1;

namespace HaMaster.Bench.Load;

/// <summary>Settings of <c>hamaster bench bulk-load</c>. Immutable; <see cref="Validate"/> before use.</summary>
internal sealed record BulkLoadOptions
{
    /// <summary>Files to create in all.</summary>
    public long Files { get; init; } = 1_000_000;

    /// <summary>Files per CreateFiles call, and per directory (1..1,000).</summary>
    public int PerCall { get; init; } = 1000;

    /// <summary>Calls in flight.</summary>
    public int Concurrency { get; init; } = 4;

    /// <summary>Names this run's root directory, <c>/bulk-RUNID</c>.</summary>
    public string RunId { get; init; } = Random.Shared.Next().ToString("x8", CultureInfo.InvariantCulture);

    public BulkLoadOptions Validate()
    {
        if (Files < 1) throw new ArgumentException("--files must be at least 1");
        if (PerCall is < 1 or > 1000) throw new ArgumentException("--per-call must be 1..1000");
        if (Concurrency is < 1 or > 4096) throw new ArgumentException("--concurrency must be 1..4096");
        return this;
    }
}

/// <summary>What a bulk load did; <c>operations</c>/<c>opsPerSecond</c> count files (as the write workload's report does), latencies are per call.</summary>
internal sealed record BulkLoadReport(
    string Workload, long Operations, long Calls, long Errors, double Seconds, double OpsPerSecond,
    double P50Ms, double P99Ms, double MaxMs, string? FirstError);

/// <summary>
/// Loads a namespace through CreateFiles (issue 19's scale run): directory k of the run gets files
/// f0..f{PerCall-1} in one call, Concurrency calls in flight. A call that fails (after the client's
/// own retries) counts its files as errors; names a retried call finds existing are not errors.
/// </summary>
internal static class BulkLoad
{
    public static async Task<BulkLoadReport> RunAsync(BulkLoadOptions options, HaMasterClient client, CancellationToken cancellationToken)
    {
        var root = "/bulk-" + options.RunId;
        var calls = (options.Files + options.PerCall - 1) / options.PerCall;
        var names = Enumerable.Range(0, options.PerCall).Select(i => "f" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var histogram = new LatencyHistogram();
        long next = -1, created = 0, errors = 0;
        string? firstError = null;
        var started = Stopwatch.GetTimestamp();

        async Task WorkerAsync()
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var call = Interlocked.Increment(ref next);
                if (call >= calls) return;
                var count = (int)Math.Min(options.PerCall, options.Files - (call * options.PerCall));
                var request = new CreateFilesRequest { Directory = $"{root}/d{call}", Recursive = true, Names = { names.Take(count) } };
                var begin = Stopwatch.GetTimestamp();
                try
                {
                    var response = await client.CreateFilesAsync(request, cancellationToken).ConfigureAwait(false);
                    histogram.Record((long)(Stopwatch.GetElapsedTime(begin).TotalMilliseconds * 1e6));
                    var refused = response.Failures.Count(f => f.Code != (int)Grpc.Core.StatusCode.AlreadyExists);
                    Interlocked.Add(ref created, count - refused);
                    if (refused > 0)
                    {
                        Interlocked.Add(ref errors, refused);
                        Interlocked.CompareExchange(ref firstError, response.Failures.First(f => f.Code != (int)Grpc.Core.StatusCode.AlreadyExists).Message, null);
                    }
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    Interlocked.Add(ref errors, count);
                    Interlocked.CompareExchange(ref firstError, ex.Message, null);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(WorkerAsync, cancellationToken))).ConfigureAwait(false);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var latency = LatencySummary.Of(histogram);
        return new BulkLoadReport(
            "bulk-load", created, Math.Min(calls, next), errors, Math.Round(seconds, 3), Math.Round(created / Math.Max(seconds, 1e-9), 1),
            latency.P50Ms, latency.P99Ms, latency.MaxMs, firstError);
    }
}
