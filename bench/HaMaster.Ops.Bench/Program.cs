using System.Diagnostics;
using System.Globalization;
using HaMaster.Cli;
using HaMaster.Client;
using HaMaster.Journal;

// Backup benchmark (issue 9).
//  1. Offline: BackupArchive write (with fsync) and verify/extract throughput over a synthetic
//     snapshot of random files (CRC-32C and SHA-256 included).
//  2. Live (when a master address is given): files created per second into a running master,
//     then `hamaster cluster backup` wall time and MB/s, idle and while a writer keeps writing,
//     and the writer's throughput during the backup versus before it.
// Usage: HaMaster.Ops.Bench [snapshot-MiB=128] [master host:port] [files=20000]
var mib = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 128;
var master = args.Length > 1 ? args[1] : null;
var fileCount = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 20000;
var work = Directory.CreateTempSubdirectory("hamaster-ops-bench-").FullName;
try
{
    Offline(work, mib);
    if (master is not null)
    {
        await LiveAsync(work, master, fileCount);
    }
}
finally
{
    Directory.Delete(work, recursive: true);
}

static void Offline(string work, int mib)
{
    var data = Path.Combine(work, "snapshot");
    Directory.CreateDirectory(data);
    var random = new Random(42);
    var files = new List<SnapshotFileEntry>();
    var remaining = (long)mib << 20;
    var buffer = new byte[1 << 20];
    for (var i = 0; remaining > 0; i++)
    {
        var length = Math.Min(remaining, 16L << 20);
        var name = $"db/{i:D6}.sst";
        Directory.CreateDirectory(Path.Combine(data, "db"));
        using (var stream = File.Create(Path.Combine(data, name)))
        {
            var crc = ~0u;
            for (long written = 0; written < length; written += buffer.Length)
            {
                random.NextBytes(buffer);
                var n = (int)Math.Min(buffer.Length, length - written);
                stream.Write(buffer, 0, n);
                crc = Crc32C.Update(crc, buffer.AsSpan(0, n));
            }

            files.Add(new SnapshotFileEntry(name, length, ~crc));
        }

        remaining -= length;
    }

    var manifest = new SnapshotManifest(1000, 3, new byte[] { 1 }, files, DateTimeOffset.UtcNow);
    var archive = Path.Combine(work, "bench.backup");
    Console.WriteLine($"offline: synthetic snapshot of {files.Count} files, {manifest.TotalBytes / (1 << 20)} MiB");
    for (var round = 1; round <= 2; round++)
    {
        var clock = Stopwatch.StartNew();
        using (var output = new FileStream(archive, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            BackupArchive.Write(output, manifest, data);
            output.Flush(flushToDisk: true);
        }

        var write = clock.Elapsed;
        clock.Restart();
        using (var input = File.OpenRead(archive))
        {
            BackupArchive.Read(input);
        }

        var verify = clock.Elapsed;
        var extract = Path.Combine(work, $"extract-{round}");
        clock.Restart();
        using (var input = File.OpenRead(archive))
        {
            BackupArchive.Read(input, extract);
        }

        var extracted = clock.Elapsed;
        Directory.Delete(extract, recursive: true);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  round {round}: write+fsync {Rate(manifest.TotalBytes, write)}, verify {Rate(manifest.TotalBytes, verify)}, verify+extract+fsync {Rate(manifest.TotalBytes, extracted)}"));
    }
}

static async Task LiveAsync(string work, string master, int fileCount)
{
    using var client = new HaMasterClient(new HaMasterClientOptions { Seeds = [master], ClientId = Guid.NewGuid().ToString("N") });
    var run = Guid.NewGuid().ToString("N")[..8];
    await client.CreateDirectoryAsync($"/bench-{run}", recursive: true);
    var clock = Stopwatch.StartNew();
    await Parallel.ForAsync(0, fileCount, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        await client.CreateFileAsync($"/bench-{run}/f{i:D7}", cancellationToken: ct));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"live: created {fileCount} files in {clock.Elapsed.TotalSeconds:0.00} s ({fileCount / clock.Elapsed.TotalSeconds:0} files/s, 32 in flight)"));

    var idle = await BackupAsync(work, master, "idle");

    // The same backup while one writer keeps creating files (sequentially): its rate before and during.
    var before = await WriterRateAsync(client, $"/bench-{run}/before", TimeSpan.FromSeconds(3));
    using var stop = new CancellationTokenSource();
    var during = 0;
    var warmedUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    await client.CreateDirectoryAsync($"/bench-{run}/during", recursive: true);
    var writer = Task.Run(async () =>
    {
        for (var i = 0; i < 1_000_000 && !stop.IsCancellationRequested; i++)
        {
            await client.CreateFileAsync($"/bench-{run}/during/w{i:D7}");
            if (Interlocked.Increment(ref during) == 20)
            {
                warmedUp.TrySetResult();
            }
        }
    });
    await warmedUp.Task.WaitAsync(TimeSpan.FromSeconds(30));
    // Ten backups back to back, so the window is long enough for the writer's rate to mean something.
    var atStart = Volatile.Read(ref during);
    var loaded = TimeSpan.Zero;
    for (var round = 1; round <= 10; round++)
    {
        loaded += await BackupAsync(work, master, $"under writes {round}", print: round is 1 or 10);
    }

    var inWindow = Volatile.Read(ref during) - atStart;
    await stop.CancelAsync();
    await writer;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  writer (1 in flight): {before:0} creates/s before, {inWindow / loaded.TotalSeconds:0} creates/s during 10 back-to-back backups ({inWindow} creates in {loaded.TotalSeconds:0.00} s, none failed; mean backup {loaded.TotalSeconds / 10:0.00} s; idle backup {idle.TotalSeconds:0.00} s)"));
}

static async Task<double> WriterRateAsync(HaMasterClient client, string directory, TimeSpan duration)
{
    await client.CreateDirectoryAsync(directory, recursive: true);
    var clock = Stopwatch.StartNew();
    var count = 0;
    while (clock.Elapsed < duration)
    {
        await client.CreateFileAsync($"{directory}/w{count:D7}");
        count++;
    }

    return count / clock.Elapsed.TotalSeconds;
}

static async Task<TimeSpan> BackupAsync(string work, string master, string label, bool print = true)
{
    var archive = Path.Combine(work, $"live-{label.Replace(' ', '-')}.backup");
    using var output = new StringWriter();
    using var error = new StringWriter();
    var clock = Stopwatch.StartNew();
    var code = await HamasterCommandLine.RunAsync(["--masters", master, "cluster", "backup", archive], output, error);
    var elapsed = clock.Elapsed;
    if (code != 0)
    {
        throw new InvalidOperationException($"backup failed ({code}): {error}");
    }

    var size = new FileInfo(archive).Length;
    if (!print)
    {
        return elapsed;
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  backup {label}: {elapsed.TotalSeconds:0.00} s, archive {size / 1024.0 / 1024.0:0.0} MiB ({Rate(size, elapsed)}) — {output.ToString().Trim()}"));
    return elapsed;
}

static string Rate(long bytes, TimeSpan elapsed) =>
    string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0 / 1024.0 / Math.Max(elapsed.TotalSeconds, 1e-9):0} MiB/s");
