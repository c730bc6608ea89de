using System.Diagnostics;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using HaMaster.Grpc.Bench;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// Unary echo calls (a small StringValue) against an in-process Kestrel server over ONE HTTP/2
// connection (the channel's stream limit is far above the concurrency, so no second connection opens).
// Usage: HaMaster.Grpc.Bench [seconds-per-run=5] [concurrency list=1,64]
var seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 5.0;
var levels = args.Length > 1 ? args[1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() : [1, 64];

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k =>
{
    k.Limits.Http2.MaxStreamsPerConnection = 1000;
    k.Listen(System.Net.IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2);
});
builder.Services.AddGrpc();
await using var app = builder.Build();
app.MapGrpcService<EchoService>();
await app.StartAsync();
var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = false } });
var client = new Echo.EchoClient(channel);
var request = new StringValue { Value = "hello, hamaster" };

// Warm-up: JIT, connection, HPACK tables.
for (var i = 0; i < 2000; i++)
{
    await client.EchoAsync(request);
}

Console.WriteLine($"gRPC unary echo, {request.CalculateSize()} B message, one HTTP/2 connection, {seconds:0.#} s per run, {Environment.ProcessorCount} cores, server+client in one process");
Console.WriteLine("concurrency   calls/s      p50 (us)   p99 (us)   calls");
foreach (var concurrency in levels)
{
    var (calls, latencies) = await RunAsync(client, request, concurrency, TimeSpan.FromSeconds(seconds));
    Array.Sort(latencies);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{concurrency,11}   {calls / seconds,9:0}   {Percentile(latencies, 0.50),9:0.0}   {Percentile(latencies, 0.99),9:0.0}   {calls}"));
}

static async Task<(long Calls, double[] LatenciesUs)> RunAsync(Echo.EchoClient client, StringValue request, int concurrency, TimeSpan duration)
{
    var stop = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
    var perWorker = new List<double>[concurrency];
    var workers = Enumerable.Range(0, concurrency).Select(async w =>
    {
        var samples = perWorker[w] = new List<double>(1 << 16);
        while (Stopwatch.GetTimestamp() < stop)
        {
            var start = Stopwatch.GetTimestamp();
            await client.EchoAsync(request);
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }
    }).ToArray();
    await Task.WhenAll(workers);
    var all = perWorker.SelectMany(l => l).ToArray();
    return (all.LongLength, all);
}

static double Percentile(double[] sorted, double p) =>
    sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

/// <summary>Answers with the request.</summary>
internal sealed class EchoService : Echo.EchoBase
{
    public override Task<StringValue> Echo(StringValue request, ServerCallContext context) => Task.FromResult(request);
}
