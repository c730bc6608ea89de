using System.CommandLine;
using System.Globalization;
using HaMaster.Cli.Bench;

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
        var concurrency = new Option<int>("--concurrency", "-c") { Description = "Requests in flight", DefaultValueFactory = _ => 16 };
        var duration = new Option<string>("--duration", "-d") { Description = "Run length, e.g. 10s (ignored with --ops)", DefaultValueFactory = _ => "10s" };
        var ops = new Option<long?>("--ops", "-n") { Description = "Stop after this many requests instead of after --duration" };
        var dirs = new Option<int>("--dirs") { Description = "Directories the write workload spreads its creates over", DefaultValueFactory = _ => 16 };
        var via = new Option<string>("--via") { Description = "all: round-robin over every endpoint; leader: only the leader (etcd: the first endpoint)", DefaultValueFactory = _ => "all" };
        via.AcceptOnlyFromAmong("all", "leader");
        var runId = new Option<string?>("--run-id") { Description = "8 hex digits naming this run's paths/keys (default random)" };

        var bench = new Command("bench", "Load generator: prints ops/s and p50/p99/p99.9 latency (issue 8)")
        {
            target, workload, concurrency, duration, ops, dirs, via, runId,
        };
        bench.SetAction(async (r, cancellationToken) =>
        {
            BenchOptions options;
            try
            {
                _ = LoadGenerator.TryParseWorkload(r.GetValue(workload) ?? "write", out var parsedWorkload);
                var client = ClientOptions(r);
                options = new BenchOptions
                {
                    Endpoints = client.Seeds,
                    Target = r.GetValue(target) == "etcd" ? BenchTarget.Etcd : BenchTarget.HaMaster,
                    Workload = parsedWorkload,
                    Concurrency = r.GetValue(concurrency),
                    Duration = Duration.Parse(r.GetValue(duration) ?? "10s"),
                    Operations = r.GetValue(ops),
                    Directories = r.GetValue(dirs),
                    Spread = r.GetValue(via) != "leader",
                    CallTimeout = client.CallTimeout,
                    RunId = r.GetValue(runId) ?? new BenchOptions().RunId,
                }.Validate();
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException)
            {
                await _err.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            try
            {
                await using IBenchTarget system = options.Target == BenchTarget.Etcd ? new EtcdBenchTarget(options) : new HaMasterBenchTarget(options);
                var report = await LoadGenerator.RunAsync(options, system, cancellationToken).ConfigureAwait(false);
                WriteReport(r, report);
                return report.Operations == 0 && report.Errors > 0 ? ExitCodes.Unavailable : ExitCodes.Ok;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                return await ReportFailureAsync(r, ex).ConfigureAwait(false);
            }
        });
        return bench;
    }

    private void WriteReport(ParseResult result, BenchReport report)
    {
        if (Json(result))
        {
            _out.WriteLine(System.Text.Json.JsonSerializer.Serialize(report, CliJsonContext.Default.BenchReport));
            return;
        }

        static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
        var table = new TextTable("TARGET", "WORKLOAD", "INFLIGHT", "OPS", "ERRORS", "SECONDS", "OPS/S", "P50_MS", "P99_MS", "P99.9_MS", "MAX_MS");
        table.AddRow(report.Target, report.Workload, report.Concurrency.ToString(CultureInfo.InvariantCulture), report.Operations.ToString(CultureInfo.InvariantCulture),
            report.Errors.ToString(CultureInfo.InvariantCulture), F(report.Seconds), F(report.OpsPerSecond), F(report.P50Ms), F(report.P99Ms), F(report.P999Ms), F(report.MaxMs));
        table.WriteTo(_out);
        if (report.FirstError is not null)
        {
            _out.WriteLine($"first error: {report.FirstError}");
        }
    }
}
