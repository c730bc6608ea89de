using System.CommandLine;
using System.Globalization;
using HaMaster.Cli;

namespace HaMaster.Bench.Load;

// `hamaster-bench availability`: the failover probe of scripts/bench.sh.
internal sealed partial class BenchCommandLine
{
    /// <summary>
    /// <c>hamaster-bench availability</c>: a steady write load over every member for --duration, printing the
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
        command.SetAction(ParseThenRun(
            r =>
            {
                var client = ClientOptions(r);
                var options = new BenchOptions
                {
                    Endpoints = client.Seeds,
                    Target = r.GetValue(target) == "etcd" ? BenchTarget.Etcd : BenchTarget.HaMaster,
                    Workload = BenchWorkload.Write,
                    Concurrency = r.GetValue(writers),
                    Duration = Duration.Parse(r.GetValue(duration) ?? "60s", "--duration"),
                    Spread = true,
                    CallTimeout = client.CallTimeout,
                }.Validate();
                return (Options: options, Threshold: Duration.Parse(r.GetValue(gap) ?? "100ms"));
            },
            async (r, parsed, cancellationToken) =>
            {
                var (options, threshold) = parsed;
                await using var system = CreateTarget(options);
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
            }));
        return command;
    }
}
