using System.Diagnostics;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using HaMaster.Grpc;

// Unary echo calls (a small StringValue) against an in-process Kestrel server over ONE HTTP/2
// connection (the channel's stream limit is far above the concurrency, so no second connection opens).
// Usage: HaMaster.Grpc.Bench [seconds-per-run=5] [concurrency list=1,64]
var seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 5.0;
var levels = args.Length > 1 ? args[1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() : [1, 64];

var registry = new GrpcServiceRegistry()
    .AddUnary<StringValue, StringValue>("bench.Echo", "Echo", StringValue.Parser, (request, _) => ValueTask.FromResult(request));
await using var host = await GrpcServerHost.StartAsync(registry);
using var channel = new GrpcChannel(host.Address, new GrpcChannelOptions { EnableMultipleHttp2Connections = false });
var request = new StringValue { Value = "hello, hamaster" };

// Warm-up: JIT, connection, HPACK tables.
for (var i = 0; i < 2000; i++)
{
    await channel.UnaryAsync("/bench.Echo/Echo", request, StringValue.Parser);
}

Console.WriteLine($"gRPC unary echo, {request.CalculateSize()} B message, one HTTP/2 connection, {seconds:0.#} s per run, {Environment.ProcessorCount} cores, server+client in one process");
Console.WriteLine("concurrency   calls/s      p50 (us)   p99 (us)   calls");
foreach (var concurrency in levels)
{
    var (calls, latencies) = await RunAsync(channel, request, concurrency, TimeSpan.FromSeconds(seconds));
    Array.Sort(latencies);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{concurrency,11}   {calls / seconds,9:0}   {Percentile(latencies, 0.50),9:0.0}   {Percentile(latencies, 0.99),9:0.0}   {calls}"));
}

static async Task<(long Calls, double[] LatenciesUs)> RunAsync(GrpcChannel channel, StringValue request, int concurrency, TimeSpan duration)
{
    var stop = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
    var perWorker = new List<double>[concurrency];
    var workers = Enumerable.Range(0, concurrency).Select(async w =>
    {
        var samples = perWorker[w] = new List<double>(1 << 16);
        while (Stopwatch.GetTimestamp() < stop)
        {
            var start = Stopwatch.GetTimestamp();
            await channel.UnaryAsync("/bench.Echo/Echo", request, StringValue.Parser);
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }
    }).ToArray();
    await Task.WhenAll(workers);
    var all = perWorker.SelectMany(l => l).ToArray();
    return (all.LongLength, all);
}

static double Percentile(double[] sorted, double p) =>
    sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
