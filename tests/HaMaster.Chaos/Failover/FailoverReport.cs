using System.Globalization;
using System.Text;

namespace HaMaster.Chaos.Failover;

/// <summary>One SIGSTOP of the leader: who was paused, who led at the end of the pause (0 = nobody), the longest write gap.</summary>
public sealed record PauseGap(ulong Victim, ulong Successor, double GapMs);

/// <summary>The figures of one <see cref="FailoverRun"/>.</summary>
public sealed record FailoverReport(
    string Timing,
    int Writers,
    double QuietSeconds,
    long QuietWrites,
    ulong QuietTermIncrements,
    int QuietLeaderChanges,
    double QuietLongestGapMs,
    IReadOnlyList<PauseGap> Pauses,
    long Writes,
    long FailedAttempts,
    double Seconds)
{
    public double MedianPauseGapMs => WriteGaps.Median(Pauses.Select(p => p.GapMs));

    public double MaxPauseGapMs => Pauses.Count == 0 ? double.NaN : Pauses.Max(p => p.GapMs);

    public string Format()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine("== failover summary ==");
        text.AppendLine(c, $"timing: {Timing}; {Writers} writers; {Writes} writes in {Seconds:0.0} s, {FailedAttempts} failed attempts");
        text.AppendLine(c, $"quiet stretch: {QuietSeconds:0.0} s at full load, {QuietWrites} writes ({QuietWrites / Math.Max(QuietSeconds, 1e-9):0} /s), term increments {QuietTermIncrements}, leader changes {QuietLeaderChanges}, longest write gap {QuietLongestGapMs:0} ms");
        for (var i = 0; i < Pauses.Count; i++)
        {
            var p = Pauses[i];
            text.AppendLine(c, $"pause {i + 1}: master {p.Victim} stopped, leader during the pause {(p.Successor == 0 ? "none" : p.Successor.ToString(c))}, longest write gap {p.GapMs:0} ms");
        }

        text.AppendLine(c, $"write gap after SIGSTOP of the leader: median {MedianPauseGapMs:0} ms, max {MaxPauseGapMs:0} ms over {Pauses.Count} pauses");
        return text.ToString();
    }
}
