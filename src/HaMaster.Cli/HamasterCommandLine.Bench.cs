using System.CommandLine;
using System.Globalization;
using HaMaster.Cli.Bench;
using HaMaster.Client;

namespace HaMaster.Cli;

// `hamaster bench`: the issue 8 load generator (HaMaster or etcd through the same code path).
public sealed partial class HamasterCommandLine
{
    private Command BuildBenchCommand()
    {
        var target = new Option<string>("--target") { Description = "System under test: hamaster or etcd (--masters then lists etcd client endpoints)", DefaultValueFactory = _ => "hamaster" };
        target.AcceptOnlyFromAmong("hamaster", "etcd");
        var workload = new Option<string>("--workload") { Description = "write | read | read-stale | list | mixed (90% reads)", DefaultValueFactory = _ => "write" };
        workload.AcceptOnlyFromAmong("write", "read", "read-stale", "list", "mixed");
        var concurrency = new Option<string>("--concurrency", "-c") { Description = "Requests in flight; a comma list (1,16,64,256) runs one round per value", DefaultValueFactory = _ => "16" };
        var duration = new Option<string>("--duration", "-d") { Description = "Run length, e.g. 10s (ignored with --ops)", DefaultValueFactory = _ => "10s" };
        var ops = new Option<long?>("--ops", "-n") { Description = "Stop after this many requests instead of after --duration" };
        var warmup = new Option<string>("--warmup") { Description = "Unmeasured load before each measured round, e.g. 2s (ignored with --ops)", DefaultValueFactory = _ => "1s" };
        var dirs = new Option<int>("--dirs") { Description = "Directories the write workload spreads its creates over", DefaultValueFactory = _ => 16 };
        var shape = new Option<string>("--shape") { Description = "spread (default): round-robin over every member, as a client that knows only the seeds (followers forward writes, serve reads by ReadIndex); leader: every request to the current leader", DefaultValueFactory = _ => "spread" };
        shape.AcceptOnlyFromAmong("spread", "leader");
        var serverPids = new Option<string?>("--server-pids") { Description = "Comma list of the servers' PIDs on this machine: adds server CPU per operation (from /proc) to each round" };
        var runId = new Option<string?>("--run-id") { Description = "8 hex digits naming this run's paths/keys (default random)" };

        var bench = new Command("bench", "Load generator: prints ops/s and p50/p99/p99.9 latency (issue 8)")
        {
            target, workload, concurrency, duration, warmup, ops, dirs, shape, serverPids, runId,
        };
        bench.Add(BuildAvailabilityCommand());
        bench.Add(BuildFleetCommand());
        bench.Add(BuildPathsBenchCommand());
        bench.SetAction(async (r, cancellationToken) =>
        {
            List<BenchOptions> rounds;
            try
            {
                _ = LoadGenerator.TryParseWorkload(r.GetValue(workload) ?? "write", out var parsedWorkload);
                var client = ClientOptions(r);
                var levels = ParseLevels(r.GetValue(concurrency) ?? "16");
                var firstRun = r.GetValue(runId) ?? new BenchOptions().RunId;
                var pids = ParsePids(r.GetValue(serverPids));
                // Each round gets its own run id so its writes never collide with an earlier round's.
                rounds = levels.Select((level, i) => new BenchOptions
                {
                    Endpoints = client.Seeds,
                    Target = r.GetValue(target) == "etcd" ? BenchTarget.Etcd : BenchTarget.HaMaster,
                    Workload = parsedWorkload,
                    Concurrency = level,
                    Duration = Duration.Parse(r.GetValue(duration) ?? "10s", "--duration"),
                    Warmup = Duration.ParseAllowingZero(r.GetValue(warmup) ?? "1s", "--warmup"),
                    Operations = r.GetValue(ops),
                    Directories = r.GetValue(dirs),
                    Spread = r.GetValue(shape) != "leader",
                    ServerPids = pids,
                    CallTimeout = client.CallTimeout,
                    RunId = i == 0 ? firstRun : new BenchOptions().RunId,
                }.Validate()).ToList();
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException)
            {
                await _err.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            try
            {
                var reports = new List<BenchReport>();
                foreach (var options in rounds)
                {
                    await using IBenchTarget system = options.Target == BenchTarget.Etcd ? new EtcdBenchTarget(options) : new HaMasterBenchTarget(options);
                    reports.Add(await LoadGenerator.RunAsync(options, system, cancellationToken).ConfigureAwait(false));
                }

                WriteReports(r, reports);
                return reports.Any(report => report.Operations == 0 && report.Errors > 0) ? ExitCodes.Unavailable : ExitCodes.Ok;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                return await ReportFailureAsync(r, ex).ConfigureAwait(false);
            }
        });
        return bench;
    }

    /// <summary>
    /// <c>bench availability</c>: a steady write load over every member for --duration, printing the
    /// gaps between successful writes (scripts/bench.sh kills the leader meanwhile).
    /// </summary>
    private Command BuildAvailabilityCommand()
    {
        var target = new Option<string>("--target") { Description = "hamaster or etcd", DefaultValueFactory = _ => "hamaster" };
        target.AcceptOnlyFromAmong("hamaster", "etcd");
        var writers = new Option<int>("--concurrency", "-c") { Description = "Writers, each with one write in flight", DefaultValueFactory = _ => 8 };
        var duration = new Option<string>("--duration", "-d") { Description = "Run length, e.g. 60s", DefaultValueFactory = _ => "60s" };
        var gap = new Option<string>("--gap") { Description = "Report intervals without a successful write at least this long", DefaultValueFactory = _ => "100ms" };
        var stopFile = new Option<string?>("--stop-file") { Description = "End the run early as soon as this file exists (--duration stays the upper bound)" };
        var command = new Command("availability", "Failover probe: steady writes to every member; prints each write-unavailability window")
        {
            target, writers, duration, gap, stopFile,
        };
        command.SetAction(async (r, cancellationToken) =>
        {
            BenchOptions options;
            TimeSpan threshold;
            try
            {
                var client = ClientOptions(r);
                options = new BenchOptions
                {
                    Endpoints = client.Seeds,
                    Target = r.GetValue(target) == "etcd" ? BenchTarget.Etcd : BenchTarget.HaMaster,
                    Workload = BenchWorkload.Write,
                    Concurrency = r.GetValue(writers),
                    Duration = Duration.Parse(r.GetValue(duration) ?? "60s", "--duration"),
                    Spread = true,
                    CallTimeout = client.CallTimeout,
                }.Validate();
                threshold = Duration.Parse(r.GetValue(gap) ?? "100ms");
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException)
            {
                await _err.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            try
            {
                await using IBenchTarget system = options.Target == BenchTarget.Etcd ? new EtcdBenchTarget(options) : new HaMasterBenchTarget(options);
                var report = await AvailabilityProbe.RunAsync(options, system, threshold, r.GetValue(stopFile), cancellationToken).ConfigureAwait(false);
                if (Json(r))
                {
                    _out.WriteLine(System.Text.Json.JsonSerializer.Serialize(report, BenchJsonContext.Default.AvailabilityReport));
                }
                else
                {
                    _out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{report.Target}: {report.Operations} writes, {report.Errors} errors in {report.Seconds} s; longest gap {report.LongestGapMs} ms"));
                    foreach (var g in report.Gaps)
                    {
                        _out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  gap {g.Milliseconds} ms from {DateTimeOffset.FromUnixTimeMilliseconds(g.StartUnixMs):HH:mm:ss.fff}"));
                    }
                }

                return report.Operations == 0 ? ExitCodes.Unavailable : ExitCodes.Ok;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                return await ReportFailureAsync(r, ex).ConfigureAwait(false);
            }
        });
        return command;
    }

    /// <summary><c>bench fleet</c>: simulated workers heartbeating plus clients each on its own connection.</summary>
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
        command.SetAction(async (r, cancellationToken) =>
        {
            FleetOptions options;
            HaMasterClientOptions clientOptions;
            try
            {
                clientOptions = ClientOptions(r);
                options = new FleetOptions
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
                }.Validate();
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException)
            {
                await _err.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            try
            {
                using var client = new HaMasterClient(clientOptions);
                var report = await FleetLoad.RunAsync(options, client, cancellationToken).ConfigureAwait(false);
                _out.WriteLine(System.Text.Json.JsonSerializer.Serialize(report, BenchJsonContext.Default.FleetReport));
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                return await ReportFailureAsync(r, ex).ConfigureAwait(false);
            }
        });
        return command;
    }

    /// <summary>"1,16,64" -> [1, 16, 64]; each value 1..100000.</summary>
    internal static IReadOnlyList<int> ParseLevels(string text)
    {
        var levels = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var level) || level is < 1 or > 100_000)
            {
                throw new FormatException($"--concurrency: '{part}' is not a number between 1 and 100000.");
            }

            levels.Add(level);
        }

        return levels.Count > 0 ? levels : throw new FormatException("--concurrency needs at least one value.");
    }

    /// <summary>"101,102" -> [101, 102]; null or empty -> none.</summary>
    internal static IReadOnlyList<int> ParsePids(string? text)
    {
        var pids = new List<int>();
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0)
            {
                throw new FormatException($"--server-pids: '{part}' is not a process id.");
            }

            pids.Add(pid);
        }

        return pids;
    }

    /// <summary>A table with one row per round, or JSON: one object for one round, an array for several.</summary>
    private void WriteReports(ParseResult result, List<BenchReport> reports)
    {
        if (Json(result))
        {
            _out.WriteLine(reports.Count == 1
                ? System.Text.Json.JsonSerializer.Serialize(reports[0], CliJsonContext.Default.BenchReport)
                : System.Text.Json.JsonSerializer.Serialize(reports, CliJsonContext.Default.ListBenchReport));
            return;
        }

        static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
        static string N(double? v, string format) => v is { } x ? x.ToString(format, CultureInfo.InvariantCulture) : "-";
        var table = new TextTable("TARGET", "WORKLOAD", "SHAPE", "INFLIGHT", "OPS", "ERRORS", "SECONDS", "OPS/S", "P50_MS", "P99_MS", "P99.9_MS", "MAX_MS", "SERVER_CPU_MS/OP", "GEN_CORES", "SATURATED");
        foreach (var report in reports)
        {
            table.AddRow(report.Target, report.Workload, report.Shape, report.Concurrency.ToString(CultureInfo.InvariantCulture), report.Operations.ToString(CultureInfo.InvariantCulture),
                report.Errors.ToString(CultureInfo.InvariantCulture), F(report.Seconds), F(report.OpsPerSecond), F(report.P50Ms), F(report.P99Ms), F(report.P999Ms), F(report.MaxMs),
                N(report.ServerCpuMsPerOp, "0.###"), N(report.GeneratorCpuCores, "0.00"), report.Saturation ?? "no");
        }

        table.WriteTo(_out);
        foreach (var report in reports.Where(r => r.FirstError is not null))
        {
            _out.WriteLine($"first error at {report.Concurrency} in flight: {report.FirstError}");
        }
    }
}
