using HaMaster.Raft.Tests.Simulation;
using Xunit.Abstractions;

namespace HaMaster.Raft.Tests;

/// <summary>
/// Deterministic simulation (seeded, fake clock and network). Replay one seed with
/// <c>RAFT_SIM_SEED=1234 dotnet test tests/HaMaster.Raft.Tests --filter Simulation</c>; soak with <c>RAFT_SIM_SEEDS=100000</c>
/// (optionally <c>RAFT_SIM_FIRST_SEED=500001</c> to explore a fresh range).
/// </summary>
public sealed class SimulationTests(ITestOutputHelper output)
{
    private static int SeedCount => int.TryParse(Environment.GetEnvironmentVariable("RAFT_SIM_SEEDS"), out var n) && n > 0 ? n : 500;

    [Fact]
    public void Simulation_many_seeds_keep_every_invariant_and_recover()
    {
        var single = Environment.GetEnvironmentVariable("RAFT_SIM_SEED");
        var first = ulong.TryParse(Environment.GetEnvironmentVariable("RAFT_SIM_FIRST_SEED"), out var firstSeed) ? firstSeed : 1;
        var seeds = ulong.TryParse(single, out var s) ? [s] : Enumerable.Range(0, SeedCount).Select(i => first + (ulong)i).ToArray();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        long commits = 0, reads = 0;
        var stats = new SimStats();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var cpu0 = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        Parallel.ForEach(seeds, new ParallelOptions { MaxDegreeOfParallelism = 2 }, seed =>
        {
            try
            {
                var cluster = new SimCluster(SimOptions.ForSeed(seed));
                cluster.Run();
                Interlocked.Add(ref commits, (long)cluster.Summary.Commit);
                Interlocked.Add(ref reads, cluster.Summary.ReadsServed);
                stats.Add(cluster.Stats);
            }
            catch (SimViolationException e)
            {
                failures.Add(e.Message);
            }
        });
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu0;
        output.WriteLine($"{seeds.Length} seeds in {watch.Elapsed.TotalSeconds:F1}s wall, {cpu.TotalSeconds:F1}s CPU: {commits} committed entries, {reads} linearizable reads checked; {stats}");
        foreach (var f in failures.Take(15)) output.WriteLine(f.Split('\n')[0] + " | " + f.Split('\n')[^1]);
        if (!failures.IsEmpty) Assert.Fail($"{failures.Count} seed(s) failed; shortest:\n{failures.OrderBy(f => f.Length).First()}");
    }

    [Theory]
    [InlineData("vote-without-log-check")]
    [InlineData("read-without-quorum")]
    public void Simulation_catches_a_deliberately_broken_safety_rule(string mutation)
    {
        // The checker has teeth: with a safety rule broken on purpose, some seed within the budget must fail.
        for (ulong seed = 1; seed <= 400; seed++)
        {
            var options = SimOptions.ForSeed(seed) with
            {
                UnsafeSkipVoteLogCheck = mutation == "vote-without-log-check",
                UnsafeReadWithoutQuorum = mutation == "read-without-quorum",
            };
            try
            {
                new SimCluster(options).Run();
            }
            catch (SimViolationException e)
            {
                output.WriteLine($"mutation {mutation} caught by seed {seed}: {e.Message.Split('\n')[0]}");
                return;
            }
        }
        Assert.Fail($"mutation {mutation} was not caught within 400 seeds");
    }
}
