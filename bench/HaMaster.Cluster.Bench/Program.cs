using System.Diagnostics;
using System.Globalization;
using HaMaster.Chaos.Core.Processes;
using HaMaster.Client;
using HaMaster.Testing;
using HaMaster.Protos.V1;

// End-to-end figures of a real three-master cluster on 127.0.0.1 (fsync on, Rocks metastore).
// Usage: HaMaster.Cluster.Bench [sequential-ops=300] [concurrent-writers=16] [concurrent-ops=3000]
// Prints one line per measurement; the machine's load shapes every figure, so compare ratios
// (follower vs leader, concurrent vs sequential) rather than absolute numbers across machines.
var sequentialOps = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 300;
var writersCount = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 16;
var concurrentOps = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3000;

Console.WriteLine($"cluster bench: 3 masters, tick 50 ms x 16, fsync on; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} on {Environment.ProcessorCount} cores");
var startClock = Stopwatch.StartNew();
await using var cluster = await TestCluster.StartAsync(new ClusterSettings { WaitTimeout = TimeSpan.FromSeconds(60) });
var (leader, followers) = await cluster.RolesAsync();
Console.WriteLine($"startup: 3 processes READY and a leader agreed in {startClock.ElapsedMilliseconds} ms (leader {leader})");

var client = cluster.CreateClient();
await client.CreateDirectoryAsync("/bench", recursive: true);
await client.CreateDirectoryAsync("/bench/seq-leader", recursive: true);
await client.CreateDirectoryAsync("/bench/seq-follower", recursive: true);
await client.CreateDirectoryAsync("/bench/seq-leader-raw", recursive: true);

// Warm-up: JIT tiering in four processes on a loaded machine otherwise dominates the first figures.
await client.CreateDirectoryAsync("/bench/warmup", recursive: true);
var warmupClients = Enumerable.Range(0, 8).Select(_ => cluster.CreateClient()).ToArray();
var warmupFollower = cluster.RawClient(followers[0]);
await Task.WhenAll(warmupClients.Select(async (c, w) =>
{
    for (var i = 0; i < 100; i++)
    {
        await c.CreateFileAsync($"/bench/warmup/w{w}-{i}");
        await warmupFollower.GetStatusAsync($"/bench/warmup/w{w}-{i}");
    }
}));
for (var i = 0; i < 100; i++)
{
    await warmupFollower.CreateFileAsync($"/bench/warmup/f{i}");
}

Console.WriteLine($"warm-up: 900 writes and 800 reads done at {startClock.ElapsedMilliseconds} ms");

// 1. Sequential CreateFile latency: through the client library (goes to the leader) and pinned on a follower (one forwarding hop).
var viaLeader = await MeasureAsync(sequentialOps, i => client.CreateFileAsync($"/bench/seq-leader/f{i}").AsTask());
Report("sequential CreateFile, client library", viaLeader);
var rawLeader = cluster.RawClient(leader);
var viaRawLeader = await MeasureAsync(sequentialOps, i => rawLeader.CreateFileAsync($"/bench/seq-leader-raw/f{i}").AsTask());
Report("sequential CreateFile pinned on leader", viaRawLeader);
var follower = cluster.RawClient(followers[0]);
var viaFollower = await MeasureAsync(sequentialOps, i => follower.CreateFileAsync($"/bench/seq-follower/f{i}").AsTask());
Report("sequential CreateFile via follower", viaFollower);
Console.WriteLine($"  forwarding cost: follower p50 / leader p50 = {Percentile(viaFollower, 0.5) / Percentile(viaLeader, 0.5):0.00}x");

// 2. Concurrent writers (each its own client and session): group commit shares appends, fsyncs and applies.
await client.CreateDirectoryAsync("/bench/concurrent", recursive: true);
var clients = Enumerable.Range(0, writersCount).Select(_ => cluster.CreateClient()).ToArray();
var perWriter = concurrentOps / writersCount;
var latencies = new List<double>[writersCount];
var wall = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, writersCount).Select(async w =>
{
    latencies[w] = await MeasureAsync(perWriter, i => clients[w].CreateFileAsync($"/bench/concurrent/w{w}-{i}").AsTask());
}));
wall.Stop();
var all = latencies.SelectMany(l => l).ToList();
Report($"concurrent CreateFile, {writersCount} writers", all);
var throughput = all.Count / wall.Elapsed.TotalSeconds;
Console.WriteLine($"  throughput {throughput:0} writes/s vs sequential {1000 / viaLeader.Average():0} writes/s = {throughput / (1000 / viaLeader.Average()):0.0}x");

// 3. Reads: linearizable on the leader, linearizable on a follower (ReadIndex round trip), stale on a follower.
var onLeader = rawLeader;
Report("GetStatus linearizable on leader", await MeasureAsync(sequentialOps, _ => onLeader.GetStatusAsync("/bench/seq-leader/f0", Consistency.Linearizable).AsTask()));
Report("GetStatus linearizable on follower", await MeasureAsync(sequentialOps, _ => follower.GetStatusAsync("/bench/seq-leader/f0", Consistency.Linearizable).AsTask()));
Report("GetStatus stale on follower", await MeasureAsync(sequentialOps, _ => follower.GetStatusAsync("/bench/seq-leader/f0", Consistency.Stale).AsTask()));

// 4. Failover: one writer keeps creating files while the leader is killed with SIGKILL.
await client.CreateDirectoryAsync("/bench/failover", recursive: true);
var failoverClient = cluster.CreateClient();
using var stop = new CancellationTokenSource();
var worst = 0.0;
var acked = 0;
var killedAt = 0L;
var firstAfterKill = 0L;
var clock = Stopwatch.StartNew();
var writer = Task.Run(async () =>
{
    for (var i = 0; i < 100_000 && !stop.IsCancellationRequested; i++)
    {
        var t0 = clock.Elapsed.TotalMilliseconds;
        await failoverClient.CreateFileAsync($"/bench/failover/f{i}");
        var t1 = clock.Elapsed.TotalMilliseconds;
        worst = Math.Max(worst, t1 - t0);
        Interlocked.Increment(ref acked);
        if (Volatile.Read(ref killedAt) != 0 && firstAfterKill == 0 && t0 > Volatile.Read(ref killedAt))
        {
            firstAfterKill = (long)t1;
        }
    }
});
await Eventually.TrueAsync("50 writes before the kill", () => Task.FromResult(Volatile.Read(ref acked) >= 50 || writer.IsCompleted), TimeSpan.FromSeconds(60));
Volatile.Write(ref killedAt, (long)clock.Elapsed.TotalMilliseconds);
await cluster.KillAsync(leader);
var newLeader = await cluster.WaitForLeaderAsync(id => id != leader, TimeSpan.FromSeconds(60));
var electedAt = clock.Elapsed.TotalMilliseconds;
var ackedAtElection = Volatile.Read(ref acked);
await Eventually.TrueAsync("50 writes after the election", () => Task.FromResult(Volatile.Read(ref acked) >= ackedAtElection + 50 || writer.IsCompleted), TimeSpan.FromSeconds(60));
await stop.CancelAsync();
await writer;
Console.WriteLine($"failover: SIGKILL leader {leader} -> leader {newLeader} agreed by all after {electedAt - killedAt:0} ms; " +
    $"longest single write {worst:0} ms; first write started after the kill acknowledged {firstAfterKill - killedAt:0} ms after it; {acked} writes, 0 errors");

static async Task<List<double>> MeasureAsync(int count, Func<int, Task> operation)
{
    var samples = new List<double>(count);
    for (var i = 0; i < count; i++)
    {
        var start = Stopwatch.GetTimestamp();
        await operation(i);
        samples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    return samples;
}

static double Percentile(List<double> samples, double p)
{
    var sorted = samples.Order().ToList();
    return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}

static void Report(string label, List<double> samples) =>
    Console.WriteLine($"{label,-42} n={samples.Count,5}  p50 {Percentile(samples, 0.5),7:0.00} ms  p99 {Percentile(samples, 0.99),7:0.00} ms  mean {samples.Average(),7:0.00} ms  ({1000 / samples.Average():0} ops/s per caller)");
