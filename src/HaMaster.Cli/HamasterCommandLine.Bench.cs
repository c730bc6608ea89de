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
        var concurrency = new Option<string>("--concurrency", "-c") { Description = "Requests in flight; a comma list (1,16,64,256) runs one round per value", DefaultValueFactory = _ => "16" };
        var duration = new Option<string>("--duration", "-d") { Description = "Run length, e.g. 10s (ignored with --ops)", DefaultValueFactory = _ => "10s" };
        var ops = new Option<long?>("--ops", "-n") { Description = "Stop after this many requests instead of after --duration" };
        var dirs = new Option<int>("--dirs") { Description = "Directories the write workload spreads its creates over", DefaultValueFactory = _ => 16 };
        var via = new Option<string>("--via") { Description = "leader (default): every request to the leader (etcd: the first endpoint); all: round-robin over every member", DefaultValueFactory = _ => "leader" };
        via.AcceptOnlyFromAmong("all", "leader");
        var runId = new Option<string?>("--run-id") { Description = "8 hex digits naming this run's paths/keys (default random)" };

        var bench = new Command("bench", "Load generator: prints ops/s and p50/p99/p99.9 latency (issue 8)")
        {
            target, workload, concurrency, duration, ops, dirs, via, runId,
        };
        bench.SetAction(async (r, cancellationToken) =>
        {
            List<BenchOptions> rounds;
            try
            {
                _ = LoadGenerator.TryParseWorkload(r.GetValue(workload) ?? "write", out var parsedWorkload);
                var client = ClientOptions(r);
                var levels = ParseLevels(r.GetValue(concurrency) ?? "16");
                var firstRun = r.GetValue(runId) ?? new BenchOptions().RunId;
                // Each round gets its own run id so its writes never collide with an earlier round's.
                rounds = levels.Select((level, i) => new BenchOptions
                {
                    Endpoints = client.Seeds,
                    Target = r.GetValue(target) == "etcd" ? BenchTarget.Etcd : BenchTarget.HaMaster,
                    Workload = parsedWorkload,
                    Concurrency = level,
                    Duration = Duration.Parse(r.GetValue(duration) ?? "10s"),
                    Operations = r.GetValue(ops),
                    Directories = r.GetValue(dirs),
                    Spread = r.GetValue(via) != "leader",
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
        var table = new TextTable("TARGET", "WORKLOAD", "INFLIGHT", "OPS", "ERRORS", "SECONDS", "OPS/S", "P50_MS", "P99_MS", "P99.9_MS", "MAX_MS");
        foreach (var report in reports)
        {
            table.AddRow(report.Target, report.Workload, report.Concurrency.ToString(CultureInfo.InvariantCulture), report.Operations.ToString(CultureInfo.InvariantCulture),
                report.Errors.ToString(CultureInfo.InvariantCulture), F(report.Seconds), F(report.OpsPerSecond), F(report.P50Ms), F(report.P99Ms), F(report.P999Ms), F(report.MaxMs));
        }

        table.WriteTo(_out);
        foreach (var report in reports.Where(r => r.FirstError is not null))
        {
            _out.WriteLine($"first error at {report.Concurrency} in flight: {report.FirstError}");
        }
    }
}
