using System.Text;
using HaMaster.Chaos.Core.Faults;
using HaMaster.Chaos.Core.Linearizability;

namespace HaMaster.Chaos;

/// <summary>
/// The outcome of one chaos run: the summary (faults, operations, write gaps, verdict), every
/// violated invariant, and where the evidence is. <see cref="Passed"/> only when the history is
/// linearizable and no invariant was violated.
/// </summary>
public sealed record ChaosReport(
    ChaosSummary Summary,
    IReadOnlyList<string> Violations,
    string WorkDirectory,
    string HistoryPath,
    TimeSpan MaxRecovery,
    TimeSpan FinalRecovery,
    int SnapshotInstallsSeen,
    int RefusedFaults,
    int Masters,
    int LedgerFiles,
    ulong FinalAppliedIndex,
    string ReplayCommand,
    IReadOnlyList<Failover.FaultWriteGap>? FaultGaps = null)
{
    public bool Passed => Summary.Verdict == LinearizabilityVerdict.Linearizable && Violations.Count == 0;

    public int FaultCount => Summary.FaultsByKind.Values.Sum();

    public string Format()
    {
        var text = new StringBuilder(Summary.Format());
        text.AppendLine($"masters: {Masters}   final applied index: {FinalAppliedIndex}   ledger files: {LedgerFiles}");
        text.AppendLine($"recovery after heal: max {MaxRecovery.TotalSeconds:0.00} s, after the final heal {FinalRecovery.TotalSeconds:0.00} s");
        if (FaultGaps is { Count: > 0 })
        {
            text.AppendLine("write gaps per fault (injection to the next fault):");
            text.Append(Failover.FaultWriteGaps.Format(FaultGaps));
        }

        text.AppendLine($"snapshot catch-ups seen: {SnapshotInstallsSeen}   faults the cluster refused (still counted): {RefusedFaults}");
        text.AppendLine($"invariants: {(Violations.Count == 0 ? "all held" : $"{Violations.Count} VIOLATED")}");
        foreach (var violation in Violations.Take(50))
        {
            text.AppendLine($"  - {violation}");
        }

        text.AppendLine($"verdict: {(Passed ? "PASS" : "FAIL")}");
        if (!Passed)
        {
            text.AppendLine($"replay: {ReplayCommand}; history: {HistoryPath}; logs: {WorkDirectory}");
        }

        return text.ToString();
    }
}
