using System.Text;
using HaMaster.Chaos.Core.History;
using HaMaster.Chaos.Core.Linearizability;

namespace HaMaster.Chaos.Core.Faults;

/// <summary>What a chaos run prints at the end (and what docs/ records for long runs).</summary>
public sealed record ChaosSummary(
    int Seed,
    TimeSpan Duration,
    IReadOnlyDictionary<string, int> FaultsByKind,
    IReadOnlyDictionary<OpOutcome, int> OperationsByOutcome,
    TimeSpan LongestWindowWithoutSuccessfulWrite,
    TimeSpan LongestWindowStart,
    LinearizabilityVerdict? Verdict,
    string? HistoryPath,
    string? Explanation)
{
    /// <summary>
    /// Summarises <paramref name="history"/>: faults by kind, operations by outcome, and the longest
    /// stretch (from the start, between, or to the end of the run) without a completion for which
    /// <paramref name="isSuccessfulWrite"/> holds. <paramref name="endTime"/> (history ticks) ends the
    /// run there, e.g. when the clients stopped, so checking time afterwards is not counted as a gap
    /// (default: now).
    /// </summary>
    public static ChaosSummary From<TInput, TOutput>(
        EventHistory<TInput, TOutput> history,
        Func<TInput, TOutput, bool> isSuccessfulWrite,
        int seed,
        LinearizabilityResult? check = null,
        string? historyPath = null,
        long? endTime = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(isSuccessfulWrite);
        var end = endTime ?? history.Now;
        var entries = history.Entries();
        var faults = history.Faults()
            .GroupBy(f => f.Kind, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var outcomes = Enum.GetValues<OpOutcome>().ToDictionary(o => o, o => entries.Count(e => e.Outcome == o));
        var writes = entries
            .Where(e => e.Outcome == OpOutcome.Ok && isSuccessfulWrite(e.Input, e.Output!))
            .Select(e => e.ReturnTime!.Value)
            .Order()
            .ToList();
        long previous = 0, longest = 0, longestStart = 0;
        foreach (var at in writes.Append(end))
        {
            if (at - previous > longest)
            {
                (longest, longestStart) = (at - previous, previous);
            }

            previous = Math.Max(previous, at);
        }

        var failed = check is { IsLinearizable: false } ? check.Explain() : null;
        return new ChaosSummary(seed, TimeSpan.FromTicks(end), faults, outcomes, TimeSpan.FromTicks(longest),
            TimeSpan.FromTicks(longestStart), check?.Verdict, historyPath, failed);
    }

    public string Format()
    {
        var text = new StringBuilder();
        text.AppendLine("== chaos summary ==");
        text.Append("seed: ").Append(Seed).Append("   duration: ").Append(Duration.TotalSeconds.ToString("F1")).AppendLine(" s");
        text.Append("faults injected: ").Append(FaultsByKind.Values.Sum()).AppendLine();
        foreach (var (kind, count) in FaultsByKind)
        {
            text.Append("  ").Append(kind.PadRight(24)).Append(count).AppendLine();
        }

        text.Append("operations: ").Append(OperationsByOutcome.Values.Sum()).AppendLine();
        foreach (var (outcome, count) in OperationsByOutcome)
        {
            text.Append("  ").Append(outcome.ToString().PadRight(24)).Append(count).AppendLine();
        }

        text.Append("longest window without a successful write: ").Append(LongestWindowWithoutSuccessfulWrite.TotalSeconds.ToString("F3"))
            .Append(" s (from ").Append(LongestWindowStart.TotalSeconds.ToString("F3")).AppendLine(" s)");
        text.Append("linearizability: ").AppendLine(Verdict?.ToString() ?? "not checked");
        if (Verdict is not null and not LinearizabilityVerdict.Linearizable)
        {
            text.Append("replay with seed ").Append(Seed);
            text.AppendLine(HistoryPath is null ? string.Empty : $"; history: {HistoryPath}");
        }

        if (Explanation is not null)
        {
            text.AppendLine(Explanation);
        }

        return text.ToString();
    }
}
