using System.CommandLine;
using System.Globalization;
using HaMaster.Cli;
using HaMaster.Client;

namespace HaMaster.Bench.Load;

/// <summary>
/// The <c>hamaster-bench</c> command tree: the closed-loop load generator (HaMaster or etcd through
/// the same code path; issue 8) and its subcommands. Accepts the <c>hamaster</c> command line's
/// connection flags (<see cref="ClientFlags"/>); output goes to the writers given to the
/// constructor so tests can run it in-process. Exit codes: see <see cref="ExitCodes"/>.
/// </summary>
internal sealed partial class BenchCommandLine
{
    private readonly TextWriter _out;
    private readonly TextWriter _err;
    private readonly ClientFlags _flags = new();

    public BenchCommandLine(TextWriter output, TextWriter error)
    {
        _out = output;
        _err = error;
        Root = BuildRoot();
        _flags.AddTo(Root);
    }

    /// <summary>The root of the command tree.</summary>
    public RootCommand Root { get; }

    /// <summary>Parses and runs <paramref name="args"/>; returns the process exit code.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default) =>
        new BenchCommandLine(output, error).InvokeAsync(args, cancellationToken);

    /// <summary>Parses and runs <paramref name="args"/>; usage errors return 2 without contacting any server.</summary>
    public Task<int> InvokeAsync(string[] args, CancellationToken cancellationToken = default) =>
        ClientFlags.InvokeAsync(Root, "hamaster-bench", args, _out, _err, cancellationToken);

    private HaMasterClientOptions ClientOptions(ParseResult result) => _flags.ClientOptions(result);

    private bool Json(ParseResult result) => _flags.Json(result);

    private Task<int> ReportFailureAsync(ParseResult result, Exception ex) => _flags.ReportFailureAsync(result, ex, _err);

    private RootCommand BuildRoot()
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

        var bench = new RootCommand("hamaster-bench: load generator for HaMaster and etcd; prints ops/s and p50/p99/p99.9 latency (issue 8).\n" + ExitCodes.HelpText)
        {
            target, workload, concurrency, duration, warmup, ops, dirs, shape, serverPids, runId,
        };
        bench.Add(BuildAvailabilityCommand());
        bench.Add(BuildFleetCommand());
        bench.Add(BuildBulkLoadCommand());
        bench.Add(BuildPathsBenchCommand());
        bench.SetAction(ParseThenRun(
            r =>
            {
                _ = LoadGenerator.TryParseWorkload(r.GetValue(workload) ?? "write", out var parsedWorkload);
                var client = ClientOptions(r);
                var levels = ParseLevels(r.GetValue(concurrency) ?? "16");
                var firstRun = r.GetValue(runId) ?? new BenchOptions().RunId;
                var pids = ParsePids(r.GetValue(serverPids));
                // Each round gets its own run id so its writes never collide with an earlier round's.
                return levels.Select((level, i) => new BenchOptions
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
            },
            async (r, rounds, cancellationToken) =>
            {
                var reports = new List<BenchReport>();
                foreach (var options in rounds)
                {
                    await using var system = CreateTarget(options);
                    reports.Add(await LoadGenerator.RunAsync(options, system, cancellationToken).ConfigureAwait(false));
                }

                WriteReports(r, reports);
                return reports.Any(report => report.Operations == 0 && report.Errors > 0) ? ExitCodes.Unavailable : ExitCodes.Ok;
            }));
        return bench;
    }

    /// <summary>The system under test of <paramref name="options"/>.</summary>
    private static IBenchTarget CreateTarget(BenchOptions options) =>
        options.Target == BenchTarget.Etcd ? new EtcdBenchTarget(options) : new HaMasterBenchTarget(options);

    /// <summary>
    /// A command's action in two steps: <paramref name="parse"/> reads and validates the flags (a bad
    /// value is a usage error, exit 2, before anything is sent), then <paramref name="run"/> does the
    /// work; a failure there is reported as <c>hamaster</c> reports one, with its exit code.
    /// </summary>
    private Func<ParseResult, CancellationToken, Task<int>> ParseThenRun<T>(Func<ParseResult, T> parse, Func<ParseResult, T, CancellationToken, Task<int>> run) =>
        async (result, cancellationToken) =>
        {
            T parsed;
            try
            {
                parsed = parse(result);
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException)
            {
                await _err.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            try
            {
                return await run(result, parsed, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                return await ReportFailureAsync(result, ex).ConfigureAwait(false);
            }
        };

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
                ? System.Text.Json.JsonSerializer.Serialize(reports[0], BenchJsonContext.Default.BenchReport)
                : System.Text.Json.JsonSerializer.Serialize(reports, BenchJsonContext.Default.ListBenchReport));
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
