using System.Globalization;
using System.Text;
using HaMaster.Chaos.Core.History;
using HaMaster.Chaos.Core.Models;
using HaMaster.Chaos.Nemesis;

namespace HaMaster.Chaos.Failover;

/// <summary>The longest write gap of one injected fault (from its injection to the next fault's).</summary>
public sealed record FaultWriteGap(string Kind, string Detail, TimeSpan Gap);

/// <summary>
/// Per-fault write gaps of a chaos run, for the faults that test failover without a crash (pauses and
/// partitions): each fault's window runs from its injection to the next injection (or the end), which
/// covers its hold, its heal and the recovery after it.
/// </summary>
public static class FaultWriteGaps
{
    /// <summary>Fault kinds whose gaps are reported.</summary>
    public static IReadOnlySet<string> Kinds { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        nameof(FaultKind.PauseLeader), nameof(FaultKind.PauseRandom), nameof(FaultKind.IsolateLeader), nameof(FaultKind.Split), nameof(FaultKind.OneWay),
    };

    public static IReadOnlyList<FaultWriteGap> From(EventHistory<FsInput, FsOutput> history, long endTime)
    {
        ArgumentNullException.ThrowIfNull(history);
        var writes = history.Entries()
            .Where(e => e.Outcome == OpOutcome.Ok && e.Input.IsMutation && e.Output!.Status == FsStatus.Ok)
            .Select(e => e.ReturnTime!.Value)
            .Order()
            .ToArray();
        var faults = history.Faults().OrderBy(f => f.Time).ToArray();
        var gaps = new List<FaultWriteGap>();
        for (var i = 0; i < faults.Length; i++)
        {
            if (!Kinds.Contains(faults[i].Kind)) continue;
            var to = i + 1 < faults.Length ? faults[i + 1].Time : endTime;
            if (to < faults[i].Time) continue;
            gaps.Add(new FaultWriteGap(faults[i].Kind, faults[i].Detail, TimeSpan.FromTicks(WriteGaps.LongestIn(writes, faults[i].Time, to, endTime))));
        }

        return gaps;
    }

    /// <summary>One line per kind: count, median and max gap in seconds.</summary>
    public static string Format(IReadOnlyList<FaultWriteGap> gaps)
    {
        var text = new StringBuilder();
        foreach (var group in gaps.GroupBy(g => g.Kind, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var seconds = group.Select(g => g.Gap.TotalSeconds).ToArray();
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  {group.Key,-24}{seconds.Length,3} faults, longest write gap median {WriteGaps.Median(seconds):0.000} s, max {seconds.Max():0.000} s");
        }

        return text.ToString();
    }
}
