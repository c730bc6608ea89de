using System.Diagnostics;
using System.Globalization;
using HaMaster.Metadata;
using HaMaster.Protos.V1;

// Usage: HaMaster.Metadata.Bench [--inodes 1m|10m|100m|N] [--kind rocks|heap] [--cache N] [--dir PATH] [--batch N]
// Loads a namespace of /d{k}/f{j} (1,000 files per directory) through ApplyBatch on one thread, then
// measures GetStatus and ListStatus (1,000-entry directory) throughput on every core, RSS and disk bytes.
var inodes = 1_000_000L;
var kind = MetastoreKind.Rocks;
int? cache = null;
string? dir = null;
var batchSize = 1000;
for (var i = 0; i < args.Length - 1; i += 2)
{
    switch (args[i])
    {
        case "--inodes": inodes = ParseCount(args[i + 1]); break;
        case "--kind": kind = Enum.Parse<MetastoreKind>(args[i + 1], ignoreCase: true); break;
        case "--cache": cache = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--dir": dir = args[i + 1]; break;
        case "--batch": batchSize = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        default: throw new ArgumentException($"unknown option {args[i]}");
    }
}

const int filesPerDirectory = 1000;
var options = new MetastoreOptions { Kind = kind };
if (cache is { } c)
{
    options = options with { InodeCacheMaxEntries = c };
}

dir ??= Path.Combine(Path.GetTempPath(), $"hamaster-metadata-bench-{Environment.ProcessId}");
if (Directory.Exists(dir))
{
    Directory.Delete(dir, recursive: true);
}

Console.WriteLine($"metadata bench: {inodes:N0} inodes, kind {kind}, inode cache {options.InodeCacheMaxEntries:N0} entries, batch {batchSize}, {Environment.ProcessorCount} cores, dir {dir}");
try
{
    using var sm = MetadataStateMachine.Open(dir, options);
    var directories = Math.Max(1, (inodes - 1) / (filesPerDirectory + 1));
    ulong index = 0;
    var caller = new Caller { User = "bench", Groups = { "bench" } };
    var cpuStart = Cpu();
    var clock = Stopwatch.StartNew();
    var lastReport = clock.Elapsed;
    long created = 0;
    var batch = new List<(ulong, ulong, JournalEntry)>(batchSize);
    void Flush()
    {
        if (batch.Count > 0)
        {
            sm.ApplyBatch(batch);
            batch.Clear();
        }
    }

    for (long d = 0; d < directories && created < inodes - 1; d++)
    {
        batch.Add((++index, 1, new JournalEntry { TimeMs = (long)index, Caller = caller, CreateDirectory = new CreateDirectoryRequest { Path = $"/d{d}" } }));
        created++;
        for (var f = 0; f < filesPerDirectory && created < inodes - 1; f++)
        {
            batch.Add((++index, 1, new JournalEntry { TimeMs = (long)index, Caller = caller, DefaultBlockSizeBytes = 64 << 20, CreateFile = new CreateFileRequest { Path = $"/d{d}/f{f:D4}" } }));
            created++;
            if (batch.Count >= batchSize)
            {
                Flush();
            }
        }

        if (clock.Elapsed - lastReport > TimeSpan.FromSeconds(30))
        {
            lastReport = clock.Elapsed;
            Console.WriteLine($"  ... {created:N0} inodes, {created / clock.Elapsed.TotalSeconds:N0} creates/s, RSS {Rss() / (1 << 20):N0} MiB");
        }
    }

    Flush();
    var loadSeconds = clock.Elapsed.TotalSeconds;
    var cpuLoad = Cpu() - cpuStart;
    Console.WriteLine($"apply: {created:N0} creates in {loadSeconds:N1} s = {created / loadSeconds:N0} creates/s (single apply thread, {batchSize} entries per batch)");
    Console.WriteLine($"counts: {sm.Counts}; process CPU during load {cpuLoad.TotalSeconds:N1} s = {created / cpuLoad.TotalSeconds:N0} creates per CPU-second; load average {LoadAverage()}");
    Console.WriteLine($"RSS after load: {Rss() / (1 << 20):N0} MiB (GC heap {GC.GetTotalMemory(true) / (1 << 20):N0} MiB)");
    sm.Flush();
    var disk = DirectoryBytes(dir);
    Console.WriteLine($"disk: {disk / (1 << 20):N0} MiB = {(double)disk / sm.Counts.Inodes:N1} bytes/inode (after memtable flush)");

    // Reads: every core, bounded count.
    var threads = Environment.ProcessorCount;
    var lookupsPerThread = 200_000;
    var dirs = (int)Math.Max(1, directories);
    var beforeCache = sm.InodeCache;
    var cpuBefore = Cpu();
    clock.Restart();
    Parallel.For(0, threads, t =>
    {
        var random = new Random(t);
        for (var i = 0; i < lookupsPerThread; i++)
        {
            var result = sm.GetStatus($"/d{random.Next(dirs)}/f{random.Next(filesPerDirectory):D4}");
            if (!result.IsOk && result.Status != MetadataStatus.NotFound)
            {
                throw new InvalidOperationException(result.Message);
            }
        }
    });
    var statusSeconds = clock.Elapsed.TotalSeconds;
    var statusCpu = (Cpu() - cpuBefore).TotalSeconds;
    var total = (double)threads * lookupsPerThread;
    var afterCache = sm.InodeCache;
    Console.WriteLine($"GetStatus (random file, depth 2): {total / statusSeconds:N0}/s on {threads} threads = {total / statusSeconds / threads:N0}/s per core; {total / statusCpu:N0} per CPU-second; cache hits {afterCache.Hits - beforeCache.Hits:N0} misses {afterCache.Misses - beforeCache.Misses:N0}");

    var listsPerThread = 300;
    cpuBefore = Cpu();
    clock.Restart();
    Parallel.For(0, threads, t =>
    {
        var random = new Random(t);
        for (var i = 0; i < listsPerThread; i++)
        {
            var result = sm.ListStatus($"/d{random.Next(dirs)}", 1000);
            if (!result.IsOk)
            {
                throw new InvalidOperationException(result.Message);
            }
        }
    });
    var listSeconds = clock.Elapsed.TotalSeconds;
    var listCpu = (Cpu() - cpuBefore).TotalSeconds;
    var lists = (double)threads * listsPerThread;
    Console.WriteLine($"ListStatus (1,000 entries): {lists / listSeconds:N0} lists/s on {threads} threads = {lists / listSeconds / threads:N0}/s per core ({lists * 1000 / listSeconds:N0} entries/s), {lists / listCpu:N0} lists per CPU-second; load average {LoadAverage()}");
    Console.WriteLine($"RSS at end: {Rss() / (1 << 20):N0} MiB");
}
finally
{
    Directory.Delete(dir, recursive: true);
}

static long Rss()
{
    using var process = Process.GetCurrentProcess();
    process.Refresh();
    return process.WorkingSet64;
}

static TimeSpan Cpu()
{
    using var process = Process.GetCurrentProcess();
    process.Refresh();
    return process.TotalProcessorTime;
}

// Other builds share this machine: the load average tells how much the wall-clock figures are worth.
static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

static long DirectoryBytes(string path) => new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);

static long ParseCount(string text)
{
    text = text.Trim().ToLowerInvariant();
    var multiplier = text.EndsWith('m') ? 1_000_000L : text.EndsWith('k') ? 1_000L : 1L;
    return long.Parse(multiplier == 1 ? text : text[..^1], CultureInfo.InvariantCulture) * multiplier;
}
