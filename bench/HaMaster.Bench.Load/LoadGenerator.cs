using System.Diagnostics;

namespace HaMaster.Bench.Load;

/// <summary>
/// Closed-loop load generator: <see cref="BenchOptions.Concurrency"/> async workers each keep one
/// request in flight against an <see cref="IBenchTarget"/>, timing every request into a shared
/// lock-free <see cref="LatencyHistogram"/> (nanoseconds). The run stops issuing after
/// <see cref="BenchOptions.Operations"/> requests or once <see cref="BenchOptions.Warmup"/> plus
/// <see cref="BenchOptions.Duration"/> have passed; only requests issued after the warm-up are
/// measured; requests already in flight finish (each is bounded by its own deadline).
/// </summary>
internal static class LoadGenerator
{
    public static async ValueTask<BenchReport> RunAsync(BenchOptions options, IBenchTarget target, CancellationToken cancellationToken)
    {
        options.Validate();
        await target.PrepareAsync(options.Workload, cancellationToken).ConfigureAwait(false);

        var histogram = new LatencyHistogram();
        var run = new RunState();
        var warmup = options.Operations is null ? options.Warmup : TimeSpan.Zero;
        run.MeasureFrom = Stopwatch.GetTimestamp() + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var stopAt = options.Operations is null ? run.MeasureFrom + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        var workers = new Task[options.Concurrency];
        for (var w = 0; w < workers.Length; w++)
        {
            var seed = w;
            workers[w] = Task.Run(() => WorkerAsync(options, target, histogram, run, stopAt, seed, cancellationToken), cancellationToken);
        }

        // CPU counters are read when measuring starts and once every worker is done, so warm-up
        // and preparation are not charged to the measured operations.
        var untilMeasured = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), run.MeasureFrom);
        if (untilMeasured > TimeSpan.Zero)
        {
            await Task.WhenAny(Task.WhenAll(workers), Task.Delay(untilMeasured, cancellationToken)).ConfigureAwait(false);
        }

        var cpuBefore = ProcCpu.Sample(options.ServerPids);
        await Task.WhenAll(workers).ConfigureAwait(false);
        var cpu = ProcCpu.Compute(cpuBefore, ProcCpu.Sample(options.ServerPids), histogram.Count, Environment.ProcessorCount);
        var seconds = Stopwatch.GetElapsedTime(run.MeasureFrom).TotalSeconds;
        var latency = LatencySummary.Of(histogram);
        return new BenchReport(
            options.Target == BenchTarget.Etcd ? "etcd" : "hamaster",
            WorkloadName(options.Workload),
            options.Spread ? "spread" : "leader",
            options.Concurrency,
            latency.Count,
            Interlocked.Read(ref run.Errors),
            Math.Round(seconds, 3),
            Math.Round(latency.Count / seconds, 1),
            latency.P50Ms,
            latency.P90Ms,
            latency.P99Ms,
            latency.P999Ms,
            latency.MaxMs,
            latency.MeanMs,
            run.FirstError,
            cpu.ServerCpuSeconds,
            cpu.ServerCpuMsPerOp,
            cpu.GeneratorCores,
            cpu.UsableCores,
            cpu.MachineBusyFraction,
            cpu.Saturated,
            cpu.SaturationReason);
    }

    public static string WorkloadName(BenchWorkload workload) => workload switch
    {
        BenchWorkload.ReadStale => "read-stale",
        _ => workload.ToString().ToLowerInvariant(),
    };

    public static bool TryParseWorkload(string text, out BenchWorkload workload)
    {
        switch (text.ToLowerInvariant())
        {
            case "write": workload = BenchWorkload.Write; return true;
            case "read": workload = BenchWorkload.Read; return true;
            case "read-stale": workload = BenchWorkload.ReadStale; return true;
            case "list": workload = BenchWorkload.List; return true;
            case "mixed": workload = BenchWorkload.Mixed; return true;
            default: workload = default; return false;
        }
    }

    private static async Task WorkerAsync(BenchOptions options, IBenchTarget target, LatencyHistogram histogram, RunState run, long stopAt, int seed, CancellationToken cancellationToken)
    {
        // Per-worker generator: the read/write mix is reproducible for a given concurrency.
        var random = new Random(seed);
        var limit = options.Operations ?? long.MaxValue;
        while (!cancellationToken.IsCancellationRequested && Stopwatch.GetTimestamp() < stopAt)
        {
            var index = Interlocked.Increment(ref run.Issued) - 1;
            if (index >= limit)
            {
                return;
            }

            var begin = Stopwatch.GetTimestamp();
            // Requests issued during the warm-up are not measured (neither latency nor errors).
            var measured = begin >= run.MeasureFrom;
            try
            {
                await IssueAsync(options, target, random, index, cancellationToken).ConfigureAwait(false);
                var elapsed = Stopwatch.GetTimestamp() - begin;
                if (measured) histogram.Record((long)(elapsed * (1e9 / Stopwatch.Frequency)));
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                if (!measured) continue;
                Interlocked.Increment(ref run.Errors);
                Interlocked.CompareExchange(ref run.FirstError, ex.Message, null);
            }
        }
    }

    private static ValueTask IssueAsync(BenchOptions options, IBenchTarget target, Random random, long index, CancellationToken cancellationToken) => options.Workload switch
    {
        BenchWorkload.Write => target.WriteAsync(index, cancellationToken),
        BenchWorkload.Read => target.ReadAsync(index, stale: false, cancellationToken),
        BenchWorkload.ReadStale => target.ReadAsync(index, stale: true, cancellationToken),
        BenchWorkload.List => target.ListAsync(index, cancellationToken),
        _ => random.NextDouble() < options.MixedReadFraction
            ? target.ReadAsync(index, stale: false, cancellationToken)
            : target.WriteAsync(index, cancellationToken),
    };

    /// <summary>Counters shared by the workers (updated with Interlocked).</summary>
    private sealed class RunState
    {
        public long Issued;
        public long Errors;
        public long MeasureFrom;
        public string? FirstError;
    }
}
