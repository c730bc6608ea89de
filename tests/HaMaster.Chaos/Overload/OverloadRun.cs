using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using HaMaster.Chaos.Cluster;

namespace HaMaster.Chaos.Overload;

/// <summary>
/// Issue 17's overload run (<c>scripts/chaos.sh --overload</c>, and a short variant in CI):
/// three real masters with default Raft timing; for <see cref="Duration"/> the leader's client
/// port gets ordinary callers within capacity, ten times as many excess callers (from another
/// address: a flooding caller of its own), a rapid-reset flood and a half-sent-large-body flood at
/// once. Immutable; <see cref="Validate"/> checks bounds.
/// </summary>
public sealed record OverloadOptions
{
    /// <summary>How long the floods last (default 30 s).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Callers within capacity (default 4), each pausing <see cref="CallerPause"/> between calls.</summary>
    public int Callers { get; init; } = 4;

    public TimeSpan CallerPause { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Excess callers per caller within capacity (default 10), calling without pause.</summary>
    public int ExcessFactor { get; init; } = 10;

    /// <summary>The leader's admission limit for the run (--max-calls-in-progress; default 16).</summary>
    public int MaxCallsInProgress { get; init; } = 16;

    /// <summary>Half-body flood: connections, streams on each, announced message size (defaults 8, 8, 8 MiB - 64 bytes).</summary>
    public int HalfBodyConnections { get; init; } = 8;

    public int HalfBodyStreamsPerConnection { get; init; } = 8;

    public int HalfBodyAnnouncedBytes { get; init; } = (8 << 20) - 64;

    /// <summary>Largest fraction of the calls of callers within capacity that may be refused (default 0.02): admission is fair to them.</summary>
    public double WithinRefusedFraction { get; init; } = 0.02;

    /// <summary>Before the floods, the same callers run alone this long to measure the machine's own latency (default 5 s).</summary>
    public TimeSpan BaselineDuration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Served calls of callers within capacity must keep p99 under this (default 200 ms).</summary>
    public TimeSpan ServedP99Bound { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Every refused call must be answered within this (default 1 s): excess is answered at once, not queued.</summary>
    public TimeSpan RefusalBound { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The leader's RSS may grow by at most this over its level before the floods (default 256 MiB).</summary>
    public long RssGrowthBound { get; init; } = 256L << 20;

    /// <summary>Where data and logs go (default: a new temporary directory, deleted after a passing run).</summary>
    public string? WorkDirectory { get; init; }

    public string ServerDll { get; init; } = new ChaosOptions().ServerDll;

    public TextWriter? Progress { get; init; } = Console.Out;

    public OverloadOptions Validate()
    {
        if (Duration <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(Duration), Duration, "must be positive");
        if (Callers < 1 || ExcessFactor < 1) throw new ArgumentOutOfRangeException(nameof(Callers), "at least one caller and an excess factor of at least 1");
        if (MaxCallsInProgress < 1) throw new ArgumentOutOfRangeException(nameof(MaxCallsInProgress), MaxCallsInProgress, "at least 1");
        if (!File.Exists(ServerDll)) throw new FileNotFoundException($"hamaster-server.dll not found at {ServerDll}", ServerDll);
        return this;
    }
}

/// <summary>What an overload run saw; <see cref="Failures"/> is empty when every promise held.</summary>
public sealed record OverloadReport(
    ulong LeaderBefore, ulong TermBefore, ulong LeaderAfter, ulong TermAfter, IReadOnlyList<ulong> TermsSeen,
    long RssBeforeBytes, long RssMaxBytes, long RssAfterBytes,
    CallerFigures BaselineWithin, CallerFigures BaselineExcess,
    CallerFigures WithinCapacity, CallerFigures Excess, FloodFigures RapidReset, FloodFigures HalfBodies,
    double BaselineThreadPoolDelaySeconds, double FloodThreadPoolDelaySeconds,
    long LeaderLogLines, IReadOnlyList<string> Failures, IReadOnlyList<string> Notes, string Directory)
{
    public bool Passed => Failures.Count == 0;

    private static string Percent(CallerFigures figures) =>
        figures.Total == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{figures.Refused:N0} of {figures.Total:N0} ({100.0 * figures.Refused / figures.Total:N1}%)");

    public string Format()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"overload run: {(Passed ? "PASS" : "FAIL")} (data and logs: {Directory})");
        text.AppendLine(CultureInfo.InvariantCulture, $"  leader {LeaderBefore} term {TermBefore} before, leader {LeaderAfter} term {TermAfter} after; terms seen on any master: {string.Join(",", TermsSeen)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  leader RSS: {RssBeforeBytes >> 20} MiB before, max {RssMaxBytes >> 20} MiB during, {RssAfterBytes >> 20} MiB after");
        text.AppendLine(CultureInfo.InvariantCulture, $"  baseline without floods, {BaselineWithin}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  baseline without floods, {BaselineExcess}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  under floods, {WithinCapacity}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  under floods, {Excess}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  fairness: within capacity (from 127.0.0.3) refused {Percent(WithinCapacity)}, excess (from 127.0.0.2) refused {Percent(Excess)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  {RapidReset}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  {HalfBodies}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  leader thread-pool queue delay (max, hamaster_threadpool_queue_delay_max_seconds): {BaselineThreadPoolDelaySeconds * 1000:N0} ms in the baseline, {FloodThreadPoolDelaySeconds * 1000:N0} ms under floods");
        text.AppendLine(CultureInfo.InvariantCulture, $"  leader log: {LeaderLogLines:N0} lines during the run");
        foreach (var note in Notes) text.AppendLine(CultureInfo.InvariantCulture, $"  note: {note}");
        foreach (var failure in Failures) text.AppendLine(CultureInfo.InvariantCulture, $"  FAILED: {failure}");
        return text.ToString();
    }
}

/// <summary>Reads a master's thread-pool queue delay gauge from /metrics every 500 ms and keeps the largest.</summary>
internal sealed class LagSampler
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public LagSampler(HttpClient http, MasterProcess master)
    {
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var text = await http.GetStringAsync(new Uri($"http://{master.WebAddress}/metrics"), _stop.Token);
                    foreach (var line in text.Split('\n'))
                    {
                        if (!line.StartsWith("hamaster_threadpool_queue_delay_max_seconds ", StringComparison.Ordinal)) continue;
                        var value = double.Parse(line.AsSpan(line.IndexOf(' ', StringComparison.Ordinal) + 1), CultureInfo.InvariantCulture);
                        MaxSeconds = Math.Max(MaxSeconds, value);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or FormatException)
                {
                }

                await Task.Delay(500, _stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        });
    }

    public double MaxSeconds { get; private set; }

    public async Task StopAsync()
    {
        _stop.Cancel();
        await _loop;
        _stop.Dispose();
    }
}

public static class OverloadRun
{
    // Each group of callers connects from its own loopback address, i.e. is its own caller to the
    // master's fair-share admission (unauthenticated callers are told apart by remote address): the
    // excess callers are one flooding "host", the callers within capacity another, and the raw
    // HTTP/2 floods come from 127.0.0.1.
    private static readonly IPAddress WithinSource = IPAddress.Parse("127.0.0.3");
    private static readonly IPAddress ExcessSource = IPAddress.Parse("127.0.0.2");

    public static async Task<OverloadReport> RunAsync(OverloadOptions options, CancellationToken cancellationToken)
    {
        options.Validate();
        var directory = options.WorkDirectory ?? System.IO.Directory.CreateTempSubdirectory("hamaster-overload-").FullName;
        System.IO.Directory.CreateDirectory(directory);
        // Default Raft timing (100 ms ticks, 10-tick elections): what production runs.
        var cluster = TestCluster.Create(new ClusterSettings
        {
            TickMs = 100,
            ElectionTicks = 10,
            ExtraArguments = ["--max-calls-in-progress", options.MaxCallsInProgress.ToString(CultureInfo.InvariantCulture)],
            WaitForLeader = false,
            ServerDll = options.ServerDll,
            Directory = directory,
        });
        var masters = cluster.Masters;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var passed = false;
        try
        {
            await cluster.StartAllAsync();
            var (leaderBefore, termBefore) = await StableLeaderAsync(http, masters, cancellationToken);
            var leader = masters.Single(m => m.Id == leaderBefore);
            var leaderPid = leader.Pid ?? throw new InvalidOperationException("the leader is not running");
            options.Progress?.WriteLine($"overload: leader {leaderBefore} (pid {leaderPid}) in term {termBefore}; flooding its client port for {options.Duration.TotalSeconds:0} s");
            var target = new Uri($"http://{leader.ClientAddress}");
            var baselineLag = new LagSampler(http, leader);
            var baseWithin = CallerLoad.RunAsync("within capacity", target, options.Callers, options.CallerPause, options.BaselineDuration, TimeSpan.FromSeconds(5), WithinSource, cancellationToken);
            var baseExcess = CallerLoad.RunAsync("excess (10x)", target, options.Callers * options.ExcessFactor, TimeSpan.Zero, options.BaselineDuration, TimeSpan.FromSeconds(5), ExcessSource, cancellationToken);
            await Task.WhenAll(baseWithin, baseExcess);
            await baselineLag.StopAsync();
            var linesBefore = LineCount(leader.LogPath);
            var rssBefore = Rss(leaderPid);

            // Watch terms and the leader's RSS while the floods run.
            var terms = new SortedSet<ulong> { termBefore };
            long rssMax = rssBefore;
            using var watchStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var watch = Task.Run(async () =>
            {
                while (!watchStop.IsCancellationRequested)
                {
                    rssMax = Math.Max(rssMax, Rss(leaderPid));
                    foreach (var m in masters)
                    {
                        if (await StatusAsync(http, m) is { } s)
                        {
                            lock (terms) terms.Add(s.Term);
                        }
                    }

                    await Task.Delay(250, watchStop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                }
            });

            var endpoint = new IPEndPoint(IPAddress.Loopback, leader.ClientPort);
            var floodLag = new LagSampler(http, leader);
            var within = CallerLoad.RunAsync("within capacity", target, options.Callers, options.CallerPause, options.Duration, TimeSpan.FromSeconds(5), WithinSource, cancellationToken);
            var excess = CallerLoad.RunAsync("excess (10x)", target, options.Callers * options.ExcessFactor, TimeSpan.Zero, options.Duration, TimeSpan.FromSeconds(5), ExcessSource, cancellationToken);
            var rapid = Task.Run(() => RawFlood.RapidResetAsync(endpoint, options.Duration, cancellationToken: cancellationToken));
            var half = Task.Run(() => RawFlood.HalfBodiesAsync(endpoint, options.Duration, options.HalfBodyConnections, options.HalfBodyStreamsPerConnection, options.HalfBodyAnnouncedBytes, cancellationToken));
            await Task.WhenAll(within, excess, rapid, half);
            await floodLag.StopAsync();
            watchStop.Cancel();
            await watch;

            // Settle: the master's pools may keep memory briefly; the promise is about leadership.
            var (leaderAfter, termAfter) = await StableLeaderAsync(http, masters, cancellationToken);
            var rssAfter = Rss(leaderPid);
            var linesDuring = LineCount(leader.LogPath) - linesBefore;
            var failures = new List<string>();
            var notes = new List<string>();
            if (leaderAfter != leaderBefore || termAfter != termBefore) failures.Add($"leadership changed: leader {leaderBefore} term {termBefore} -> leader {leaderAfter} term {termAfter}");
            if (terms.Count > 1) failures.Add($"terms moved during the floods: {string.Join(",", terms)}");
            if (rssMax - rssBefore > options.RssGrowthBound) failures.Add($"leader RSS grew by {(rssMax - rssBefore) >> 20} MiB, over the bound of {options.RssGrowthBound >> 20} MiB");
            var w = await within;
            var x = await excess;
            if (w.Served == 0) failures.Add("no call within capacity was served");
            // The latency bounds are absolute on a machine that meets them with the callers alone;
            // on a busier machine (the baseline already misses them) they are relaxed to the bound
            // plus twice the baseline, and the report says so: the promise is that floods add no
            // queueing, which a loaded shared machine cannot show in absolute terms.
            var bw = await baseWithin;
            var bx = await baseExcess;
            var servedBound = Relaxed(options.ServedP99Bound.TotalMilliseconds, bw.ServedPercentile(99), notes, "served p99");
            var refusalBound = Relaxed(options.RefusalBound.TotalMilliseconds, Math.Max(bw.RefusedPercentile(99), bx.RefusedPercentile(99)), notes, "refusal p99");
            if (w.ServedPercentile(99) > servedBound) failures.Add($"callers within capacity: served p99 {w.ServedPercentile(99):N1} ms over {servedBound:N0} ms");
            var refusedMax = Math.Max(w.RefusedPercentile(99), x.RefusedPercentile(99));
            if (x.Refused == 0) failures.Add("no excess call was refused: the load did not exceed the admission limit");
            // Fair admission: callers within their share are served while the flooding address is
            // refused. A few refusals can still come at the master's limit while other floods' calls
            // briefly hold slots (calls are never preempted), hence a small allowance.
            if (w.Total > 0 && w.Refused > w.Total * options.WithinRefusedFraction)
            {
                failures.Add($"callers within capacity: {w.Refused:N0} of {w.Total:N0} calls refused ({100.0 * w.Refused / w.Total:N1}%), over {options.WithinRefusedFraction:P0}: admission is not sharing fairly");
            }
            if (refusedMax > refusalBound) failures.Add($"refusals took {refusedMax:N0} ms (p99), over {refusalBound:N0} ms");
            var others = w.ByStatus.Concat(x.ByStatus).Where(kv => kv.Key is not (Grpc.Core.StatusCode.OK or Grpc.Core.StatusCode.ResourceExhausted)).Sum(kv => kv.Value);
            if (others > 0) failures.Add($"{others} calls ended neither OK nor RESOURCE_EXHAUSTED");
            if (linesDuring > 2000) failures.Add($"the leader wrote {linesDuring} log lines during the floods");

            var report = new OverloadReport(leaderBefore, termBefore, leaderAfter, termAfter, [.. terms], rssBefore, rssMax, rssAfter,
                bw, bx, w, x, await rapid, await half, baselineLag.MaxSeconds, floodLag.MaxSeconds, linesDuring, failures, notes, directory);
            passed = report.Passed;
            return report;
        }
        finally
        {
            await cluster.DisposeAsync();
            if (passed && options.WorkDirectory is null)
            {
                try
                {
                    System.IO.Directory.Delete(directory, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    private static double Relaxed(double bound, double baseline, List<string> notes, string what)
    {
        if (baseline <= bound) return bound;
        var relaxed = bound + (2 * baseline);
        notes.Add($"{what} without floods was already {baseline:N0} ms (a busy machine): bound relaxed from {bound:N0} ms to {relaxed:N0} ms");
        return relaxed;
    }

    private static async Task<(ulong Leader, ulong Term)> StableLeaderAsync(HttpClient http, IReadOnlyList<MasterProcess> masters, CancellationToken cancellationToken)
    {
        // Bounded: 30 s for all three masters to agree on one leader and term.
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            var views = new List<(ulong Leader, ulong Term)>();
            foreach (var m in masters)
            {
                if (await StatusAsync(http, m) is { } s) views.Add((s.Leader, s.Term));
            }

            if (views.Count == masters.Count && views[0].Leader != 0 && views.All(v => v == views[0])) return views[0];
            await Task.Delay(200, cancellationToken);
        }

        throw new TimeoutException("the masters did not agree on a leader within 30 s");
    }

    private static async Task<(ulong Leader, ulong Term)?> StatusAsync(HttpClient http, MasterProcess master)
    {
        try
        {
            using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://{master.WebAddress}/api/status")));
            return (document.RootElement.GetProperty("leaderId").GetUInt64(), document.RootElement.GetProperty("term").GetUInt64());
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Resident set size of a process from /proc (0 when unreadable).</summary>
    private static long Rss(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    private static long LineCount(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            long n = 0;
            while (reader.ReadLine() is not null) n++;
            return n;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
