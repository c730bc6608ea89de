using System.Diagnostics;

namespace HaMaster.Chaos.Core.Linearizability;

/// <summary>
/// Wing &amp; Gong's linearizability search with Lowe's memoization, in the shape porcupine uses:
/// a depth-first search over a doubly linked list of call/return events. Taking a call means
/// "this operation takes effect now": it is applied to the model and lifted out of the list
/// together with its return; reaching a return whose call was not taken means the current
/// prefix cannot be extended, so the search backtracks. A cache of (linearized set, model
/// state) pairs prunes configurations already explored.
/// Stateless apart from the model and options; <see cref="Check"/> may run concurrently.
/// </summary>
public sealed partial class LinearizabilityChecker<TState, TInput, TOutput>
{
    private readonly ISequentialModel<TState, TInput, TOutput> _model;
    private readonly CheckerOptions _options;

    public LinearizabilityChecker(ISequentialModel<TState, TInput, TOutput> model, CheckerOptions? options = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _options = (options ?? CheckerOptions.Default).Validate();
    }

    /// <summary>
    /// Checks <paramref name="history"/>. Stops at the first partition that is not linearizable
    /// (later partitions are not reported). Cancellation yields <see cref="LinearizabilityVerdict.Unknown"/>.
    /// </summary>
    public LinearizabilityResult Check(IReadOnlyList<Operation<TInput, TOutput>> history, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(history);
        var clock = Stopwatch.StartNew();
        var positions = new Dictionary<Operation<TInput, TOutput>, int>(history.Count, ReferenceEqualityComparer.Instance);
        for (var i = 0; i < history.Count; i++)
        {
            positions.TryAdd(history[i], i);
        }

        var budget = new SearchBudget(_options, clock, cancellationToken);
        var results = new List<PartitionResult>();
        var verdict = LinearizabilityVerdict.Linearizable;
        // Unknown reads may have happened or not and answer nothing: they cannot matter.
        IReadOnlyList<Operation<TInput, TOutput>> relevant = history.Any(op => op.IsUnknown && _model.IsReadOnly(op.Input))
            ? history.Where(op => !(op.IsUnknown && _model.IsReadOnly(op.Input))).ToArray()
            : history;
        var parts = _model.Partition(relevant);
        for (var p = 0; p < parts.Count; p++)
        {
            var part = parts[p];
            var ids = new int[part.Count];
            for (var i = 0; i < part.Count; i++)
            {
                ids[i] = positions.TryGetValue(part[i], out var position)
                    ? position
                    : throw new InvalidOperationException("the model's Partition returned an operation that is not in the history");
            }

            var result = CheckPartition(p, part, ids, budget);
            results.Add(result);
            if (result.Verdict == LinearizabilityVerdict.NotLinearizable)
            {
                verdict = LinearizabilityVerdict.NotLinearizable;
                break;
            }

            if (result.Verdict == LinearizabilityVerdict.Unknown)
            {
                verdict = LinearizabilityVerdict.Unknown;
            }
        }

        return new LinearizabilityResult(verdict, results, budget.Steps, clock.Elapsed);
    }

    /// <summary>Shared step/time budget for all partitions of one check.</summary>
    private sealed class SearchBudget(CheckerOptions options, Stopwatch clock, CancellationToken cancellationToken)
    {
        public long Steps { get; private set; }

        /// <summary>Counts a step; true when the budget is exhausted (the clock is read every 1024 steps).</summary>
        public bool Exhausted()
        {
            Steps++;
            if ((Steps & 1023) != 0)
            {
                return false;
            }

            return Spent;
        }

        /// <summary>True when the step or time budget is used up or the check was cancelled (does not count a step).</summary>
        public bool Spent => Steps >= options.MaxSteps || clock.Elapsed >= options.EffectiveTimeout || cancellationToken.IsCancellationRequested;
    }
}
