using System.Diagnostics;
using Grpc.Core;
using HaMaster.Chaos.Cluster;
using HaMaster.Protos.V1;

namespace HaMaster.Chaos.Failover;

/// <summary>
/// Issue 19's failover measurement from start to report: 3 masters on loopback, a closed-loop write
/// load; a quiet stretch at that load with no faults (leader changes counted, should be none),
/// then SIGSTOPs of the leader, each held <see cref="FailoverOptions.PauseHold"/> and followed by a
/// settle time, each recording the longest write gap it caused. Prints the median and max.
/// </summary>
public static class FailoverRun
{
    public static async Task<FailoverReport> RunAsync(FailoverOptions options, CancellationToken cancellationToken = default)
    {
        options = options.Validate();
        var clusterOptions = options.ClusterOptions().Validate();
        var directory = options.WorkDirectory is { } chosen
            ? System.IO.Directory.CreateDirectory(chosen).FullName
            : System.IO.Directory.CreateTempSubdirectory("hamaster-failover-").FullName;
        var progress = options.Progress;
        var timing = options.TickMs is null && options.ElectionTicks is null
            ? "server default timing"
            : $"tick {options.TickMs?.ToString() ?? "default"} ms, election {options.ElectionTicks?.ToString() ?? "default"} ticks";
        progress?.WriteLine($"[failover] 3 masters ({timing}), {options.Writers} writers, quiet {options.QuietDuration.TotalSeconds:0} s, {options.Pauses} pauses of the leader, in {directory}");

        await using var cluster = await ChaosCluster.StartAsync(clusterOptions, directory);
        using (var setup = cluster.CreateClient(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60), maxAttempts: 1000))
        {
            await setup.CreateDirectoryAsync(WriteLoad.Directory, recursive: true, cancellationToken: cancellationToken);
        }

        await using var watch = new LeaderWatch(cluster);
        var load = new WriteLoad(cluster, options.Writers, options.CallTimeout);
        var origin = Stopwatch.GetTimestamp();
        load.Start();

        // Let connections and the leader warm up before anything is counted.
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
        var quietMark = watch.Mark;
        var quietStart = Stopwatch.GetTimestamp();
        var termBefore = await MaxTermAsync(cluster);
        await Task.Delay(options.QuietDuration, cancellationToken);
        var termAfter = await MaxTermAsync(cluster);
        var quietEnd = Stopwatch.GetTimestamp();
        // Entries after the mark are changes, unless the watch had seen no leader before it (then the first is the incumbent).
        var seen = watch.Since(quietMark).Count;
        var quietChanges = quietMark > 0 ? seen : Math.Max(0, seen - 1);
        progress?.WriteLine($"[failover] quiet stretch: term {termBefore} -> {termAfter}, {quietChanges} leader changes seen");

        var pauses = new List<(long Start, long End, ulong Victim, ulong Successor)>();
        for (var p = 0; p < options.Pauses; p++)
        {
            await Task.Delay(options.Settle, cancellationToken);
            var leader = await cluster.FindLeaderAsync();
            for (var attempt = 0; leader is null && attempt < 40; attempt++)
            {
                // A loaded machine may be electing, or a status call timed out: look again, bounded (10 s).
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
                leader = await cluster.FindLeaderAsync();
            }

            if (leader is null)
            {
                progress?.WriteLine($"[failover] pause {p + 1}: no leader found; skipped");
                continue;
            }

            var start = Stopwatch.GetTimestamp();
            var wallStart = DateTime.Now;
            await leader.PauseAsync();
            await Task.Delay(options.PauseHold, cancellationToken);
            var successor = await cluster.FindLeaderAsync();
            leader.Resume();
            var end = Stopwatch.GetTimestamp();
            pauses.Add((start, end, leader.Id, successor?.Id ?? 0));
            progress?.WriteLine($"[failover] pause {p + 1} at {wallStart:HH:mm:ss.fff}: SIGSTOP master {leader.Id} for {options.PauseHold.TotalSeconds:0.0} s, leader meanwhile: {successor?.Id.ToString() ?? "none"}");
        }

        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        var successes = await load.StopAsync();
        var stopped = Stopwatch.GetTimestamp();
        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        var quietWrites = successes.Count(t => t >= quietStart && t < quietEnd);
        var quietGap = WriteGaps.LongestIn(successes, quietStart, quietEnd, stopped);
        var gaps = pauses.Select(p => new PauseGap(p.Victim, p.Successor, Ms(WriteGaps.LongestIn(successes, p.Start, p.End, stopped)))).ToList();
        return new FailoverReport(
            timing,
            options.Writers,
            Ms(quietEnd - quietStart) / 1000,
            quietWrites,
            termAfter >= termBefore ? termAfter - termBefore : 0,
            quietChanges,
            Ms(quietGap),
            gaps,
            successes.Count,
            load.Errors,
            Ms(stopped - origin) / 1000);
    }

    private static async Task<ulong> MaxTermAsync(ChaosCluster cluster)
    {
        var infos = await Task.WhenAll(cluster.Running.Where(m => !m.IsPaused).Select(m => cluster.ClusterInfoAsync(m.Id)));
        return infos.Where(i => i is not null).Select(i => i!.Term).DefaultIfEmpty(0UL).Max();
    }
}
