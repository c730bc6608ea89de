using System.CommandLine;
using HaMaster.Cli;
using HaMaster.Client;

namespace HaMaster.Bench.Load;

// `hamaster-bench bulk-load` and `hamaster-bench fleet`: the scale and workers/clients sections of scripts/bench.sh.
internal sealed partial class BenchCommandLine
{
    /// <summary><c>hamaster-bench bulk-load</c>: loads a namespace through CreateFiles (issue 19's scale run).</summary>
    private Command BuildBulkLoadCommand()
    {
        var files = new Option<long>("--files", "-n") { Description = "Files to create", DefaultValueFactory = _ => 1_000_000 };
        var perCall = new Option<int>("--per-call") { Description = "Files per CreateFiles call and per directory (1..1000)", DefaultValueFactory = _ => 1000 };
        var concurrency = new Option<int>("--concurrency", "-c") { Description = "Calls in flight", DefaultValueFactory = _ => 4 };
        var runId = new Option<string?>("--run-id") { Description = "Names the root directory /bulk-RUNID (default random)" };
        var command = new Command("bulk-load", "Create many files through CreateFiles (one log entry per call); prints files/s and per-call latency")
        {
            files, perCall, concurrency, runId,
        };
        command.SetAction(ParseThenRun(
            r => (Client: ClientOptions(r), Load: new BulkLoadOptions
                {
                    Files = r.GetValue(files),
                    PerCall = r.GetValue(perCall),
                    Concurrency = r.GetValue(concurrency),
                    RunId = r.GetValue(runId) ?? new BulkLoadOptions().RunId,
                }.Validate()),
            async (r, parsed, cancellationToken) =>
            {
                using var client = new HaMasterClient(parsed.Client);
                var report = await BulkLoad.RunAsync(parsed.Load, client, cancellationToken).ConfigureAwait(false);
                _out.WriteLine(System.Text.Json.JsonSerializer.Serialize(report, BenchJsonContext.Default.BulkLoadReport));
                return report.Errors == 0 ? ExitCodes.Ok : ExitCodes.Other;
            }));
        return command;
    }

    /// <summary><c>hamaster-bench fleet</c>: simulated workers heartbeating plus clients each on its own connection.</summary>
    private Command BuildFleetCommand()
    {
        var workers = new Option<int>("--workers") { Description = "Simulated workers (registered, then heartbeating)", DefaultValueFactory = _ => 3000 };
        var workerBase = new Option<int>("--worker-base") { Description = "Number of the first worker (split a fleet over processes)", DefaultValueFactory = _ => 0 };
        var clients = new Option<int>("--clients") { Description = "Simulated clients, one HTTP/2 connection each", DefaultValueFactory = _ => 10_000 };
        var heartbeat = new Option<string>("--heartbeat") { Description = "Heartbeat period", DefaultValueFactory = _ => "1s" };
        var interval = new Option<string>("--interval") { Description = "Each client's GetStatus period", DefaultValueFactory = _ => "10s" };
        var duration = new Option<string>("--duration", "-d") { Description = "Measured phase length", DefaultValueFactory = _ => "120s" };
        var transport = new Option<FleetClientTransport>("--client-transport") { Description = "lean: a bare HTTP/2 connection per client (default; keeps the generator's GC out of the figures); channel: a Grpc.Net.Client channel per client", DefaultValueFactory = _ => FleetClientTransport.Lean };
        var command = new Command("fleet", "Workers heartbeating and many connected clients issuing periodic GetStatus (issue 8)")
        {
            workers, workerBase, clients, heartbeat, interval, duration, transport,
        };
        command.SetAction(ParseThenRun(
            r =>
            {
                var clientOptions = ClientOptions(r);
                return (Client: clientOptions, Fleet: new FleetOptions
                {
                    Endpoints = clientOptions.Seeds,
                    Workers = r.GetValue(workers),
                    WorkerBase = r.GetValue(workerBase),
                    Clients = r.GetValue(clients),
                    HeartbeatInterval = Duration.Parse(r.GetValue(heartbeat) ?? "1s"),
                    ClientInterval = Duration.Parse(r.GetValue(interval) ?? "10s"),
                    Duration = Duration.Parse(r.GetValue(duration) ?? "120s", "--duration"),
                    CallTimeout = clientOptions.CallTimeout,
                    ClientTransport = r.GetValue(transport),
                }.Validate());
            },
            async (r, parsed, cancellationToken) =>
            {
                using var client = new HaMasterClient(parsed.Client);
                var report = await FleetLoad.RunAsync(parsed.Fleet, client, cancellationToken).ConfigureAwait(false);
                _out.WriteLine(System.Text.Json.JsonSerializer.Serialize(report, BenchJsonContext.Default.FleetReport));
                return ExitCodes.Ok;
            }));
        return command;
    }
}
