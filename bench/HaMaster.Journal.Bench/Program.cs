using System.Diagnostics;
using System.Globalization;
using HaMaster.Journal;
using HaMaster.Journal.Bench;

// Group-commit benchmark of RaftLog: N concurrent appenders, each awaiting durability of its own
// append before the next (AppendNextAndFlushAsync), for 200-byte and 4 KiB entries.
// Usage: HaMaster.Journal.Bench [seconds-per-scenario=3] [directory=/tmp]
var seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 3.0;
var root = Path.Combine(args.Length > 1 ? args[1] : Path.GetTempPath(), $"hamaster-journal-bench-{Environment.ProcessId}");
Directory.CreateDirectory(root);
try
{
    Console.WriteLine($"HaMaster.Journal benchmark: {Environment.ProcessorCount} cores, {seconds:0.#} s per scenario, directory {root}");
    Console.WriteLine();
    Console.WriteLine("Raw sync cost on this disk (4 KiB pwrite + sync, preallocated file):");
    foreach (var line in RawSync.Measure(root))
    {
        Console.WriteLine("  " + line);
    }
    Console.WriteLine();

    await Scenario.Run(root, 200, 16, TimeSpan.FromSeconds(0.5), preallocate: true); // warm-up (JIT)
    Console.WriteLine($"{"entry",6} {"appenders",9} {"entries/s",11} {"MB/s",8} {"fsyncs/s",9} {"entries/fsync",13} {"p50 ms",8} {"p99 ms",8}");
    var results = new Dictionary<(int Size, int Appenders), Scenario.Result>();
    foreach (var size in new[] { 200, 4096 })
    {
        foreach (var appenders in new[] { 1, 16, 256 })
        {
            var r = await Scenario.Run(root, size, appenders, TimeSpan.FromSeconds(seconds), preallocate: true);
            results[(size, appenders)] = r;
            Console.WriteLine(r.Format());
        }
    }
    var noPrealloc = await Scenario.Run(root, 200, 1, TimeSpan.FromSeconds(seconds), preallocate: false);
    Console.WriteLine(noPrealloc.Format() + "   (segments NOT preallocated)");
    var serial = await Scenario.Run(root, 200, 256, TimeSpan.FromSeconds(seconds), preallocate: true, concurrentSyncs: 1);
    Console.WriteLine(serial.Format() + "   (MaxConcurrentSyncs = 1: rounds do not overlap)");
    foreach (var zeroFill in new[] { true, false })
    {
        var small = await Scenario.Run(root, 4096, 1, TimeSpan.FromSeconds(seconds), preallocate: true, zeroFill: zeroFill, segmentBytes: 1 << 20);
        Console.WriteLine(small.Format() + $"   (1 MiB segments, ZeroFillSegments = {zeroFill})");
    }
    var cpu = await Scenario.Run(root, 200, 256, TimeSpan.FromSeconds(seconds), preallocate: true, fsync: false);
    Console.WriteLine(cpu.Format() + "   (Fsync = false: the CPU ceiling, nothing durable)");
    Console.WriteLine();
    foreach (var size in new[] { 200, 4096 })
    {
        var ratio = results[(size, 256)].EntriesPerSecond / results[(size, 1)].EntriesPerSecond;
        Console.WriteLine($"{size,5} B entries: 256 appenders / 1 appender = {ratio:0.0}x  (target >= 50x: {(ratio >= 50 ? "met" : "NOT met")})");
    }
    var best200 = results[(200, 256)].EntriesPerSecond;
    Console.WriteLine($"  200 B entries at 256 appenders: {best200:N0} entries/s (target > 200,000: {(best200 > 200_000 ? "met" : "NOT met")})");
    var pre = results[(200, 1)];
    Console.WriteLine($"  preallocated vs not, 1 appender 200 B: p50 {pre.P50Ms:0.000} ms vs {noPrealloc.P50Ms:0.000} ms");
}
finally
{
    Directory.Delete(root, recursive: true);
}
return 0;

namespace HaMaster.Journal.Bench
{
    internal static class Scenario
    {
        public sealed record Result(int Size, int Appenders, long Entries, double Seconds, long Fsyncs, double P50Ms, double P99Ms)
        {
            public double EntriesPerSecond => Entries / Seconds;

            public string Format() =>
                $"{Size,6} {Appenders,9} {EntriesPerSecond,11:N0} {EntriesPerSecond * Size / 1e6,8:0.0} {Fsyncs / Seconds,9:N0} {(double)Entries / Math.Max(1, Fsyncs),13:0.0} {P50Ms,8:0.000} {P99Ms,8:0.000}";
        }

        public static async Task<Result> Run(string root, int size, int appenders, TimeSpan duration, bool preallocate, bool fsync = true, int concurrentSyncs = 2, bool zeroFill = true, long segmentBytes = 64L << 20)
        {
            var dir = Path.Combine(root, $"s{size}-a{appenders}-{Guid.NewGuid():N}");
            var log = RaftLog.Open(new RaftLogOptions { Directory = dir, PreallocateSegments = preallocate, Fsync = fsync, MaxConcurrentSyncs = concurrentSyncs, ZeroFillSegments = zeroFill, SegmentBytes = segmentBytes });
            try
            {
                var payload = new byte[size];
                new Random(size).NextBytes(payload);
                var fsyncsBefore = log.FsyncCount;
                var clock = Stopwatch.StartNew();
                var stopAt = duration.Ticks;
                var latencies = await Task.WhenAll(Enumerable.Range(0, appenders).Select(_ => Task.Run(async () =>
                {
                    var mine = new List<long>(4096);
                    while (clock.Elapsed.Ticks < stopAt)
                    {
                        var t0 = Stopwatch.GetTimestamp();
                        await log.AppendNextAndFlushAsync(1, 0, payload);
                        mine.Add(Stopwatch.GetTimestamp() - t0);
                    }
                    return mine;
                })));
                var elapsed = clock.Elapsed.TotalSeconds;
                var fsyncs = fsync ? log.FsyncCount - fsyncsBefore : log.GroupCommitCount;
                var all = latencies.SelectMany(l => l).ToArray();
                Array.Sort(all);
                double Percentile(double p) => all.Length == 0 ? 0 : all[Math.Min(all.Length - 1, (int)(p * all.Length))] * 1000.0 / Stopwatch.Frequency;
                return new Result(size, appenders, all.Length, elapsed, fsyncs, Percentile(0.50), Percentile(0.99));
            }
            finally
            {
                await log.DisposeAsync();
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
