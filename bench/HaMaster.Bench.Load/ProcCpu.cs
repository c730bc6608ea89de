using System.Diagnostics;
using System.Globalization;

namespace HaMaster.Bench.Load;

/// <summary>
/// CPU time as Linux accounts it in /proc (issue 19): a process' utime + stime from
/// <c>/proc/PID/stat</c> and the whole machine's busy and total time from <c>/proc/stat</c>, all
/// in clock ticks. The benchmark reads the servers' PIDs (they run on the same machine) and its
/// own, so CPU per operation survives the noise of a shared machine better than ops/s does.
/// Parsing is pure (tested); <see cref="Sample"/> reads the files and yields nulls off Linux.
/// </summary>
internal static class ProcCpu
{
    /// <summary>
    /// Clock ticks per second of /proc's figures: USER_HZ, part of the kernel's user ABI and 100 on
    /// every architecture .NET runs Linux on (x86-64, arm64, arm); read without a native call.
    /// </summary>
    public const double TicksPerSecond = 100.0;

    /// <summary>
    /// utime + stime (fields 14 and 15) of one <c>/proc/PID/stat</c> line, in ticks. The command
    /// name (field 2) is in parentheses and may itself hold spaces and parentheses, so fields are
    /// counted after its last ')'. False for a line that does not have that shape.
    /// </summary>
    public static bool TryParseProcessTicks(string statLine, out long ticks)
    {
        ticks = 0;
        var close = statLine.LastIndexOf(')');
        if (close < 0)
        {
            return false;
        }

        // After ")": field 3 (state) is the first, so utime (14) is index 11, stime (15) index 12.
        var fields = statLine[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 13
            || !long.TryParse(fields[11], NumberStyles.None, CultureInfo.InvariantCulture, out var user)
            || !long.TryParse(fields[12], NumberStyles.None, CultureInfo.InvariantCulture, out var system))
        {
            return false;
        }

        ticks = user + system;
        return true;
    }

    /// <summary>
    /// The machine's busy and total ticks from the aggregate "cpu" line of <c>/proc/stat</c>:
    /// total = user + nice + system + idle + iowait + irq + softirq + steal (guest time is already
    /// inside user and nice), busy = total - idle - iowait.
    /// </summary>
    public static bool TryParseMachineTicks(string procStat, out long busy, out long total)
    {
        busy = total = 0;
        foreach (var line in procStat.Split('\n'))
        {
            if (!line.StartsWith("cpu ", StringComparison.Ordinal))
            {
                continue;
            }

            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var values = new long[8];
            for (var i = 0; i < values.Length; i++)
            {
                if (i + 1 >= fields.Length)
                {
                    break; // older kernels print fewer columns; missing ones count as 0
                }

                if (!long.TryParse(fields[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]))
                {
                    return false;
                }
            }

            total = values.Sum();
            busy = total - values[3] - values[4];
            return true;
        }

        return false;
    }

    /// <summary>One reading of the servers', this process' and the machine's CPU counters.</summary>
    public static CpuSample Sample(IReadOnlyList<int> serverPids)
    {
        long? servers = 0;
        foreach (var pid in serverPids)
        {
            servers = ReadProcessTicks(pid) is { } t && servers is { } s ? s + t : null;
        }

        long? busy = null, total = null;
        if (ReadText("/proc/stat") is { } stat && TryParseMachineTicks(stat, out var b, out var t2))
        {
            busy = b;
            total = t2;
        }

        return new CpuSample(Stopwatch.GetTimestamp(), serverPids.Count > 0 ? servers : null, ReadProcessTicks(Environment.ProcessId), busy, total);
    }

    /// <summary>
    /// The CPU figures of a measured interval: server CPU per operation, the generator's own use in
    /// cores, the machine's busy share, and whether the generator could have been the limit.
    /// </summary>
    public static CpuFigures Compute(CpuSample before, CpuSample after, long operations, int usableCores)
    {
        var seconds = (after.Timestamp - before.Timestamp) / (double)Stopwatch.Frequency;
        double? serverSeconds = after.ServerTicks - before.ServerTicks is { } st ? st / TicksPerSecond : null;
        double? perOpMs = serverSeconds is { } ss && operations > 0 ? ss * 1000.0 / operations : null;
        double? generatorCores = after.GeneratorTicks - before.GeneratorTicks is { } gt && seconds > 0 ? gt / TicksPerSecond / seconds : null;
        double? machineBusy = after.MachineBusyTicks - before.MachineBusyTicks is { } mb && after.MachineTotalTicks - before.MachineTotalTicks is { } mt && mt > 0
            ? (double)mb / mt
            : null;
        var reason = SaturationReason(generatorCores, usableCores, machineBusy);
        return new CpuFigures(
            Round(serverSeconds, 3),
            Round(perOpMs, 4),
            Round(generatorCores, 3),
            usableCores,
            Round(machineBusy, 3),
            reason is not null,
            reason);
    }

    /// <summary>
    /// Why a case's throughput may be the generator's limit rather than the servers': the generator
    /// used at least 90% of the cores it may use, or the whole machine was at least 90% busy (then
    /// no core was free for it either). Null when neither holds or nothing was measured.
    /// </summary>
    public static string? SaturationReason(double? generatorCores, int usableCores, double? machineBusy)
    {
        const double Threshold = 0.9;
        if (generatorCores is { } g && g >= Threshold * usableCores)
        {
            return string.Create(CultureInfo.InvariantCulture, $"generator used {g:0.00} of {usableCores} cores");
        }

        if (machineBusy is { } m && m >= Threshold)
        {
            return string.Create(CultureInfo.InvariantCulture, $"machine {m * 100:0}% busy");
        }

        return null;
    }

    private static long? ReadProcessTicks(int pid) =>
        ReadText("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/stat") is { } line && TryParseProcessTicks(line, out var ticks) ? ticks : null;

    private static string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // no /proc (not Linux) or the process is gone: the figure stays empty
        }
    }

    private static double? Round(double? value, int digits) => value is { } v ? Math.Round(v, digits) : null;
}

/// <summary>A reading of CPU counters in ticks (null: not readable) at <see cref="Timestamp"/> (Stopwatch).</summary>
internal readonly record struct CpuSample(long Timestamp, long? ServerTicks, long? GeneratorTicks, long? MachineBusyTicks, long? MachineTotalTicks);

/// <summary>CPU figures of one measured interval (see <see cref="ProcCpu.Compute"/>).</summary>
internal sealed record CpuFigures(
    double? ServerCpuSeconds,
    double? ServerCpuMsPerOp,
    double? GeneratorCores,
    int UsableCores,
    double? MachineBusyFraction,
    bool Saturated,
    string? SaturationReason);
