using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using HaMaster.Protos.V1;

namespace HaMaster.Cli;

// `hamaster bench paths`: per-call latency of GetStatus or ListStatus over a list of paths (the
// ufs section of scripts/bench.sh runs it under a mount before and after the metadata is loaded).
public sealed partial class HamasterCommandLine
{
    private Command BuildPathsBenchCommand()
    {
        var op = new Option<string>("--op") { Description = "stat (GetStatus) or list (ListStatus, first page)", DefaultValueFactory = _ => "stat" };
        var pathsFile = new Option<string>("--paths-file") { Description = "File with one absolute path per line; each is called once, in order", Required = true };
        var command = new Command("paths", "Latency of one GetStatus or ListStatus per listed path, one call at a time (prints JSON)") { op, pathsFile };
        command.SetAction(WithClient(async (r, client, ct) =>
        {
            var list = r.GetValue(op) == "list";
            var paths = (await File.ReadAllLinesAsync(r.GetRequiredValue(pathsFile), ct).ConfigureAwait(false)).Where(p => p.Length > 0).ToList();
            var latencies = new List<double>(paths.Count);
            var errors = 0;
            foreach (var path in paths)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    if (list) _ = await client.ListStatusAsync(new ListStatusRequest { Path = path, Limit = 100 }, ct).ConfigureAwait(false);
                    else _ = await client.GetStatusAsync(new GetStatusRequest { Path = path }, ct).ConfigureAwait(false);
                }
                catch (Client.HaMasterException)
                {
                    errors++;
                }

                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            latencies.Sort();
            double At(double q) => latencies.Count == 0 ? 0 : latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
            await _out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{{\"op\":\"{(list ? "list" : "stat")}\",\"calls\":{latencies.Count},\"errors\":{errors},\"meanMs\":{(latencies.Count == 0 ? 0 : latencies.Average()):F3},\"p50Ms\":{At(0.5):F3},\"p99Ms\":{At(0.99):F3},\"maxMs\":{(latencies.Count == 0 ? 0 : latencies[^1]):F3}}}")).ConfigureAwait(false);
            return errors == 0 ? ExitCodes.Ok : ExitCodes.Other;
        }));
        return command;
    }
}
