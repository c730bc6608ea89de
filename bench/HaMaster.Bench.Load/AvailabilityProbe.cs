using System.Diagnostics;

namespace HaMaster.Bench.Load;

/// <summary>One interval in which the client saw no successful write.</summary>
/// <param name="StartUnixMs">Completion time of the last success before the gap (ms since the Unix epoch).</param>
/// <param name="EndUnixMs">Completion time of the first success after the gap.</param>
/// <param name="Milliseconds">Length of the gap.</param>
internal sealed record AvailabilityGap(long StartUnixMs, long EndUnixMs, double Milliseconds);

/// <summary>The figures of one availability probe (the <c>bench availability --json</c> output).</summary>
internal sealed record AvailabilityReport(
    string Target,
    long Operations,
    long Errors,
    double Seconds,
    long StartUnixMs,
    long EndUnixMs,
    double LongestGapMs,
    IReadOnlyList<AvailabilityGap> Gaps,
    string? FirstError);

/// <summary>
/// Failover measurement (issue 8): a steady closed-loop write load whose every successful write is
/// timestamped; afterwards the gaps between consecutive successes longer than a threshold are the
/// write-unavailability windows a client saw. The caller (scripts/bench.sh) kills and restarts the
/// leader meanwhile and matches each kill to the gap that covers it.
/// The same client logic is used for both targets: each worker sends one raw write at a time to
/// its current member; on any failure it moves to the next member and tries again at once (writes
/// reaching a follower are forwarded by it to the leader, in HaMaster and in etcd alike).
/// </summary>
internal static class AvailabilityProbe
{
    /// <summary>
    /// Runs the probe for <see cref="BenchOptions.Duration"/> with <see cref="BenchOptions.Concurrency"/>
    /// writers. <paramref name="gapThreshold"/>: gaps shorter than this are normal latency, not reported.
    /// </summary>
    /// <paramref name="stopFile"/>: when set, the run also ends as soon as this file exists (checked every 50 ms),
    /// so a driving script can end it right after its last kill; --duration stays the upper bound.
    public static async ValueTask<AvailabilityReport> RunAsync(BenchOptions options, IBenchTarget target, TimeSpan gapThreshold, string? stopFile, CancellationToken cancellationToken)
    {
        options.Validate();
        await target.PrepareAsync(BenchWorkload.Write, cancellationToken).ConfigureAwait(false);
        var members = target.MemberCount;

        // Success completion times, one list per worker (no sharing on the hot path), merged at the end.
        var successes = new List<long>[options.Concurrency];
        var state = new ProbeState();
        var startUnix = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var started = Stopwatch.GetTimestamp();
        var stopAt = started + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);
        using var stopWatcher = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watcher = stopFile is null ? Task.CompletedTask : WatchStopFileAsync(stopFile, state, stopWatcher.Token);
        var workers = new Task[options.Concurrency];
        for (var w = 0; w < workers.Length; w++)
        {
            var mine = successes[w] = new List<long>(4096);
            var worker = w;
            workers[w] = Task.Run(async () =>
            {
                var member = worker % members;
                while (!cancellationToken.IsCancellationRequested && !Volatile.Read(ref state.Stop) && Stopwatch.GetTimestamp() < stopAt)
                {
                    var index = Interlocked.Increment(ref state.Issued) - 1;
                    try
                    {
                        await target.WriteToAsync(member, index, cancellationToken).ConfigureAwait(false);
                        mine.Add(Stopwatch.GetTimestamp());
                    }
                    catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                    {
                        Interlocked.Increment(ref state.Errors);
                        Interlocked.CompareExchange(ref state.FirstError, ex.Message, null);
                        member = (member + 1) % members;
                        // A refused connection fails in microseconds: a short pause keeps a dead
                        // member from turning this loop into a busy spin, and is far below the
                        // windows being measured.
                        await Task.Delay(10, cancellationToken).ConfigureAwait(false);
                    }
                }
            }, cancellationToken);
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
        var ended = Stopwatch.GetTimestamp();
        await stopWatcher.CancelAsync().ConfigureAwait(false);
        try
        {
            await watcher.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The watcher ends by cancellation once the workers are done.
        }

        var all = successes.SelectMany(s => s).Order().ToList();
        long ToUnix(long ts) => startUnix + (long)((ts - started) * 1000.0 / Stopwatch.Frequency);
        var gaps = new List<AvailabilityGap>();
        // The edges count too: a run that starts or ends inside an outage still saw it.
        var previous = started;
        foreach (var t in all.Append(ended))
        {
            var ms = (t - previous) * 1000.0 / Stopwatch.Frequency;
            if (ms >= gapThreshold.TotalMilliseconds)
            {
                gaps.Add(new AvailabilityGap(ToUnix(previous), ToUnix(t), Math.Round(ms, 1)));
            }

            previous = t;
        }

        return new AvailabilityReport(
            options.Target == BenchTarget.Etcd ? "etcd" : "hamaster",
            all.Count,
            Interlocked.Read(ref state.Errors),
            Math.Round((ended - started) / (double)Stopwatch.Frequency, 3),
            startUnix,
            ToUnix(ended),
            gaps.Count == 0 ? 0 : gaps.Max(g => g.Milliseconds),
            gaps,
            state.FirstError);
    }

    private static async Task WatchStopFileAsync(string path, ProbeState state, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            if (File.Exists(path))
            {
                Volatile.Write(ref state.Stop, true);
                return;
            }
        }
    }

    private sealed class ProbeState
    {
        public bool Stop;
        public long Issued;
        public long Errors;
        public string? FirstError;
    }
}
