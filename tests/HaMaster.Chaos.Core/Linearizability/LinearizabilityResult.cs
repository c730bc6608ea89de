using System.Text;

namespace HaMaster.Chaos.Core.Linearizability;

public enum LinearizabilityVerdict
{
    /// <summary>A linearization exists for every partition.</summary>
    Linearizable,

    /// <summary>Some partition has no linearization: the system broke its promise.</summary>
    NotLinearizable,

    /// <summary>The search budget ran out (or was cancelled) before a verdict.</summary>
    Unknown,
}

/// <summary>
/// The outcome for one partition. Operation indices refer to the history passed to
/// <see cref="LinearizabilityChecker{TState, TInput, TOutput}.Check"/>.
/// </summary>
/// <param name="Index">Partition number, in the order the model produced them.</param>
/// <param name="Verdict">This partition's verdict.</param>
/// <param name="OperationCount">Operations in the partition.</param>
/// <param name="LongestPrefix">The longest sequence of operations the search managed to linearize, in linearization order.</param>
/// <param name="Frontier">When not linearizable: operations not in <paramref name="LongestPrefix"/> that were candidates to come next (called before the earliest pending return); none of them fits.</param>
/// <param name="Explanation">Human-readable account, empty when linearizable.</param>
public sealed record PartitionResult(
    int Index,
    LinearizabilityVerdict Verdict,
    int OperationCount,
    IReadOnlyList<int> LongestPrefix,
    IReadOnlyList<int> Frontier,
    string Explanation);

/// <summary>The overall verdict: not linearizable if any partition is; unknown if any partition ran out of budget.</summary>
public sealed record LinearizabilityResult(
    LinearizabilityVerdict Verdict,
    IReadOnlyList<PartitionResult> Partitions,
    long Steps,
    TimeSpan Elapsed)
{
    public bool IsLinearizable => Verdict == LinearizabilityVerdict.Linearizable;

    /// <summary>Explanations of the partitions that are not linearizable or unknown.</summary>
    public string Explain()
    {
        var text = new StringBuilder();
        text.Append("verdict: ").Append(Verdict).Append(" (").Append(Partitions.Count).Append(" partitions checked, ")
            .Append(Steps).Append(" steps, ").Append(Elapsed.TotalMilliseconds.ToString("F0")).AppendLine(" ms)");
        foreach (var partition in Partitions)
        {
            if (partition.Verdict != LinearizabilityVerdict.Linearizable)
            {
                text.AppendLine(partition.Explanation);
            }
        }

        return text.ToString();
    }
}
