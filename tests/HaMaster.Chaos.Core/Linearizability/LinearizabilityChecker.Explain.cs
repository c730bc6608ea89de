using System.Text;

namespace HaMaster.Chaos.Core.Linearizability;

public sealed partial class LinearizabilityChecker<TState, TInput, TOutput>
{
    private PartitionResult Illegal(int index, IReadOnlyList<Operation<TInput, TOutput>> ops, int[] ids, int[] best, TState bestState)
    {
        var frontier = Frontier(ops, best);
        var text = new StringBuilder();
        text.Append("partition ").Append(index).Append(" (").Append(ops.Count).AppendLine(" operations) is NOT linearizable.");
        AppendPrefix(text, ops, ids, best, bestState);
        text.AppendLine("  none of these operations can take effect next (each conflicts with the state above or with the real-time order):");
        foreach (var local in frontier)
        {
            AppendOperation(text, ops, ids, local);
        }

        return new PartitionResult(index, LinearizabilityVerdict.NotLinearizable, ops.Count,
            best.Select(l => ids[l]).ToArray(), frontier.Select(l => ids[l]).ToArray(), text.ToString());
    }

    private PartitionResult Unfinished(int index, IReadOnlyList<Operation<TInput, TOutput>> ops, int[] ids, int[] best, TState bestState)
    {
        var text = new StringBuilder();
        text.Append("partition ").Append(index).Append(" (").Append(ops.Count)
            .AppendLine(" operations): UNKNOWN, the search budget (time, steps or cancellation) ran out.");
        AppendPrefix(text, ops, ids, best, bestState);
        return new PartitionResult(index, LinearizabilityVerdict.Unknown, ops.Count, best.Select(l => ids[l]).ToArray(), [], text.ToString());
    }

    /// <summary>Operations outside the prefix called before the earliest return among them: the candidates to come next.</summary>
    private static int[] Frontier(IReadOnlyList<Operation<TInput, TOutput>> ops, int[] prefix)
    {
        var taken = new HashSet<int>(prefix);
        var remaining = Enumerable.Range(0, ops.Count).Where(i => !taken.Contains(i)).ToArray();
        if (remaining.Length == 0)
        {
            return [];
        }

        var earliestReturn = remaining.Min(i => ops[i].ReturnTime);
        return remaining.Where(i => ops[i].CallTime <= earliestReturn).OrderBy(i => ops[i].CallTime).ToArray();
    }

    private void AppendPrefix(StringBuilder text, IReadOnlyList<Operation<TInput, TOutput>> ops, int[] ids, int[] best, TState bestState)
    {
        text.Append("  longest linearizable prefix: ").Append(best.Length).AppendLine(" operations");
        var skip = Math.Max(0, best.Length - _options.MaxExplainedOperations);
        if (skip > 0)
        {
            text.Append("    ... ").Append(skip).AppendLine(" earlier operations omitted");
        }

        foreach (var local in best.Skip(skip))
        {
            AppendOperation(text, ops, ids, local);
        }

        text.Append("  state after the prefix: ").AppendLine(_model.DescribeState(bestState));
    }

    private void AppendOperation(StringBuilder text, IReadOnlyList<Operation<TInput, TOutput>> ops, int[] ids, int local)
    {
        var op = ops[local];
        var returned = op.IsUnknown ? "?" : op.ReturnTime.ToString();
        text.Append("    #").Append(ids[local]).Append(" client ").Append(op.ClientId)
            .Append(" [").Append(op.CallTime).Append(", ").Append(returned).Append("] ")
            .AppendLine(_model.Describe(op.Input, op.Output, op.IsUnknown));
    }
}
