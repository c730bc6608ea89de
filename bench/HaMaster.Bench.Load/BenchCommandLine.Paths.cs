using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using HaMaster.Cli;
using HaMaster.Client;
using HaMaster.Protos.V1;

namespace HaMaster.Bench.Load;

// `hamaster-bench paths`: per-call latency of GetStatus or ListStatus over a list of paths (the
// ufs section of scripts/bench.sh runs it under a mount before and after the metadata is loaded).
internal sealed partial class BenchCommandLine
{
    private Command BuildPathsBenchCommand()
    {
        var op = new Option<string>("--op") { Description = "stat (GetStatus) or list (ListStatus, first page)", DefaultValueFactory = _ => "stat" };
        op.AcceptOnlyFromAmong("stat", "list");
        var pathsFile = new Option<string>("--paths-file") { Description = "File with one absolute path per line; each is called once, in order", Required = true };
        var command = new Command("paths", "Latency of one GetStatus or ListStatus per listed path, one call at a time (prints JSON)") { op, pathsFile };
        command.SetAction(_flags.WithClient(_err, async (r, client, ct) =>
        {
            var list = r.GetValue(op) == "list";
            var paths = (await File.ReadAllLinesAsync(r.GetRequiredValue(pathsFile), ct).ConfigureAwait(false)).Where(p => p.Length > 0).ToList();
            var histogram = new LatencyHistogram();
            var errors = 0;
            foreach (var path in paths)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    if (list) _ = await client.ListStatusAsync(new ListStatusRequest { Path = path, Limit = 100 }, ct).ConfigureAwait(false);
                    else _ = await client.GetStatusAsync(new GetStatusRequest { Path = path }, ct).ConfigureAwait(false);
                }
                catch (HaMasterException)
                {
                    errors++;
                }

                histogram.Record((long)Stopwatch.GetElapsedTime(started).TotalNanoseconds);
            }

            var latency = LatencySummary.Of(histogram);
            await _out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{{\"op\":\"{(list ? "list" : "stat")}\",\"calls\":{latency.Count},\"errors\":{errors},\"meanMs\":{latency.MeanMs:F3},\"p50Ms\":{latency.P50Ms:F3},\"p99Ms\":{latency.P99Ms:F3},\"maxMs\":{latency.MaxMs:F3}}}")).ConfigureAwait(false);
            return errors == 0 ? ExitCodes.Ok : ExitCodes.Other;
        }));
        return command;
    }
}
