using System.Globalization;

namespace HaMaster.Chaos;

/// <summary>
/// <c>hamaster-chaos [--duration 30m] [--seed N] [--masters 3|5] [--clients N] [--raw-clients N] [--dir D] [--keep]</c>:
/// one chaos run; prints progress and the summary; exit code 0 = pass, 1 = an invariant failed, 2 = bad arguments.
/// <c>--stale-reads</c> is the negative control (raw clients read stale; the run should fail).
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Contains("--overload")) return await OverloadMainAsync(args);
        if (args.Contains("--failover")) return await FailoverMainAsync(args);
        ChaosOptions options;
        try
        {
            options = Parse(args);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or IndexOutOfRangeException)
        {
            await Console.Error.WriteLineAsync($"hamaster-chaos: {e.Message}");
            await Console.Error.WriteLineAsync("usage: hamaster-chaos [--duration 30m] [--seed N] [--masters 3|5] [--clients N] [--raw-clients N] [--dir D] [--keep]");
            return 2;
        }

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };

        var report = await ChaosRun.RunAsync(options, stop.Token);
        Console.WriteLine(report.Format());
        return report.Passed ? 0 : 1;
    }

    /// <summary>
    /// <c>hamaster-chaos --overload [--duration 30s] [--callers N] [--max-calls N] [--dir D]</c>: issue 17's
    /// overload run (see <see cref="Overload.OverloadRun"/>); exit code 0 = every promise held, 1 = not, 2 = bad arguments.
    /// </summary>
    private static async Task<int> OverloadMainAsync(string[] args)
    {
        var options = new Overload.OverloadOptions();
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                int Int() => int.Parse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture);
                options = args[i] switch
                {
                    "--overload" => options,
                    "--duration" => options with { Duration = ChaosOptions.ParseDuration(Value()) },
                    "--callers" => options with { Callers = Int() },
                    "--max-calls" => options with { MaxCallsInProgress = Int() },
                    "--dir" => options with { WorkDirectory = Value() },
                    "--server-dll" => options with { ServerDll = Value() },
                    _ => throw new ArgumentException($"unknown argument {args[i]}"),
                };
            }
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            await Console.Error.WriteLineAsync($"hamaster-chaos: {e.Message}");
            await Console.Error.WriteLineAsync("usage: hamaster-chaos --overload [--duration 30s] [--callers N] [--max-calls N] [--dir D]");
            return 2;
        }

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        var report = await Overload.OverloadRun.RunAsync(options, stop.Token);
        Console.WriteLine(report.Format());
        return report.Passed ? 0 : 1;
    }

    /// <summary>
    /// <c>hamaster-chaos --failover [--quiet 60s] [--pauses N] [--hold 4s] [--settle 4s] [--writers N] [--tick-ms N] [--election-ticks N] [--dir D]</c>:
    /// issue 19's failover measurement (see <see cref="Failover.FailoverRun"/>); prints figures, exit code 0, or 2 on bad arguments.
    /// </summary>
    private static async Task<int> FailoverMainAsync(string[] args)
    {
        var options = new Failover.FailoverOptions();
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                int Int() => int.Parse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture);
                options = args[i] switch
                {
                    "--failover" => options,
                    "--quiet" => options with { QuietDuration = ChaosOptions.ParseDuration(Value()) },
                    "--pauses" => options with { Pauses = Int() },
                    "--hold" => options with { PauseHold = ChaosOptions.ParseDuration(Value()) },
                    "--settle" => options with { Settle = ChaosOptions.ParseDuration(Value()) },
                    "--writers" => options with { Writers = Int() },
                    "--tick-ms" => options with { TickMs = Int() },
                    "--election-ticks" => options with { ElectionTicks = Int() },
                    "--dir" => options with { WorkDirectory = Value() },
                    "--server-dll" => options with { ServerDll = Value() },
                    _ => throw new ArgumentException($"unknown argument {args[i]}"),
                };
            }

            options.Validate();
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            await Console.Error.WriteLineAsync($"hamaster-chaos: {e.Message}");
            await Console.Error.WriteLineAsync("usage: hamaster-chaos --failover [--quiet 60s] [--pauses N] [--hold 4s] [--settle 4s] [--writers N] [--tick-ms N] [--election-ticks N] [--dir D]");
            return 2;
        }

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        var report = await Failover.FailoverRun.RunAsync(options, stop.Token);
        Console.WriteLine(report.Format());
        return 0;
    }

    internal static ChaosOptions Parse(string[] args)
    {
        var options = new ChaosOptions { Seed = Environment.TickCount & 0x7fffffff };
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture);
            options = args[i] switch
            {
                "--duration" => options with { Duration = ChaosOptions.ParseDuration(Value()) },
                "--seed" => options with { Seed = Int() },
                "--masters" => options with { Masters = Int() },
                "--clients" => options with { LibraryClients = Int() },
                "--raw-clients" => options with { RawClients = Int() },
                "--dir" => options with { WorkDirectory = Value() },
                "--keep" => options with { KeepData = true },
                "--stale-reads" => options with { StaleRawReads = true },
                "--server-dll" => options with { ServerDll = Value() },
                _ => throw new ArgumentException($"unknown argument {args[i]}"),
            };
        }

        return options;
    }
}
