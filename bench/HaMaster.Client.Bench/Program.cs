using System.Diagnostics;
using System.Globalization;
using HaMaster.Cli;
using HaMaster.Bench.Load;
using HaMaster.Client;
using HaMaster.Client.Bench;
using HaMaster.Protos.V1;

// Client-library benchmark: what the HaMasterClient (Polly retry pipeline, exactly-once
// sessions, leader routing) costs over a bare GrpcChannel call, measured with the same load
// generator `hamaster-bench` uses, against an in-process stub master; plus the histogram's
// per-record cost. Usage: scripts/bench-client.sh [--duration 2s]
var duration = TimeSpan.FromSeconds(2);
for (var i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--duration")
    {
        duration = Duration.Parse(args[i + 1]);
    }
}

Console.WriteLine($"HaMaster client benchmark: {Environment.ProcessorCount} cores, {duration.TotalSeconds:0.#} s per run, in-process stub master over h2c loopback");
Console.WriteLine();

// 1. Histogram recording cost.
{
    var histogram = new LatencyHistogram();
    const int N = 20_000_000;
    var sw = Stopwatch.StartNew();
    for (var i = 0; i < N; i++)
    {
        histogram.Record((i * 7919L) & 0xFFFFFF);
    }

    var single = sw.Elapsed.TotalNanoseconds / N;
    var shared = new LatencyHistogram();
    sw.Restart();
    Parallel.For(0, Environment.ProcessorCount, _ =>
    {
        for (var i = 0; i < N / 4; i++)
        {
            shared.Record((i * 7919L) & 0xFFFFFF);
        }
    });
    var contended = sw.Elapsed.TotalNanoseconds / (N / 4 * Environment.ProcessorCount);
    Console.WriteLine($"histogram Record: {single:0.0} ns/op single thread, {contended:0.0} ns/op wall per op with {Environment.ProcessorCount} threads sharing one histogram");
    Console.WriteLine();
}

await using var stub = await StubMaster.StartAsync();
var channel = MasterChannel.Open(MasterEndpoint.ToUri(stub.Address));
using var client = new HaMasterClient(new HaMasterClientOptions { Seeds = [stub.Address] });
await client.DiscoverAsync();
var raw = client.ForMaster(stub.Address, raw: true);
await client.CreateDirectoryAsync("/bench", recursive: true);
for (var i = 0; i < 100; i++)
{
    await client.CreateFileAsync($"/bench/r{i:d3}");
}

var table = new TextTable("OPERATION", "PATH", "INFLIGHT", "OPS/S", "P50_MS", "P99_MS", "P99.9_MS", "ERRORS");
async Task MeasureAsync(string operation, string path, int concurrency, Func<long, ValueTask> op)
{
    var options = new BenchOptions { Endpoints = [stub.Address], Workload = BenchWorkload.Read, Concurrency = concurrency, Duration = duration };
    var report = await LoadGenerator.RunAsync(options, new DelegateTarget(op), CancellationToken.None);
    table.AddRow(operation, path, concurrency.ToString(CultureInfo.InvariantCulture), report.OpsPerSecond.ToString("0", CultureInfo.InvariantCulture),
        report.P50Ms.ToString("0.000", CultureInfo.InvariantCulture), report.P99Ms.ToString("0.000", CultureInfo.InvariantCulture),
        report.P999Ms.ToString("0.000", CultureInfo.InvariantCulture), report.Errors.ToString(CultureInfo.InvariantCulture));
    Console.WriteLine($"  {operation,-10} {path,-22} c={concurrency,-3} {report.OpsPerSecond,9:0} ops/s  p50 {report.P50Ms:0.000} ms  p99 {report.P99Ms:0.000} ms");
}

foreach (var concurrency in new[] { 1, 16, 64 })
{
    await MeasureAsync("GetStatus", "GrpcChannel (bare)", concurrency, async i =>
        _ = await channel.FileSystem.GetStatusAsync(new GetStatusRequest { Path = $"/bench/r{i % 100:d3}" }));
    await MeasureAsync("GetStatus", "HaMasterClient raw", concurrency, async i => _ = await raw.GetStatusAsync($"/bench/r{i % 100:d3}"));
    await MeasureAsync("GetStatus", "HaMasterClient retrying", concurrency, async i => _ = await client.GetStatusAsync($"/bench/r{i % 100:d3}"));
}

var run = 0;
foreach (var concurrency in new[] { 16 })
{
    run++;
    var prefix = $"/bench/w{run}";
    await client.CreateDirectoryAsync(prefix);
    await MeasureAsync("CreateFile", "GrpcChannel (bare)", concurrency, async i =>
        _ = await channel.FileSystem.CreateFileAsync(new CreateFileRequest { Path = $"{prefix}/a{i}" }));
    await MeasureAsync("CreateFile", "HaMasterClient retrying", concurrency, async i => _ = await client.CreateFileAsync($"{prefix}/b{i}"));
}

Console.WriteLine();
table.WriteTo(Console.Out);

/// <summary>Adapts one operation to the load generator (every workload slot runs it).</summary>
internal sealed class DelegateTarget(Func<long, ValueTask> operation) : IBenchTarget
{
    public ValueTask PrepareAsync(BenchWorkload workload, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask WriteAsync(long index, CancellationToken cancellationToken) => operation(index);

    public ValueTask ReadAsync(long index, bool stale, CancellationToken cancellationToken) => operation(index);

    public ValueTask ListAsync(long index, CancellationToken cancellationToken) => operation(index);

    public int MemberCount => 1;

    public ValueTask WriteToAsync(int member, long index, CancellationToken cancellationToken) => operation(index);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
