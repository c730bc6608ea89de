namespace HaMaster.Chaos.Core.Linearizability;

/// <summary>
/// A sequential specification the checker linearizes a concurrent history against.
/// States must be immutable values: the checker keeps old states on its backtracking stack
/// and in its memo cache, so <see cref="Step"/> must return a new state and never mutate.
/// </summary>
public interface ISequentialModel<TState, TInput, TOutput>
{
    /// <summary>The state before any operation (the checker calls it once per partition).</summary>
    TState Init();

    /// <summary>
    /// Applies <paramref name="input"/> to <paramref name="state"/>: <c>Ok</c> is true when the
    /// sequential specification could have answered <paramref name="output"/>; <c>Next</c> is the
    /// state afterwards (ignored when not ok).
    /// </summary>
    (bool Ok, TState Next) Step(TState state, TInput input, TOutput output);

    /// <summary>
    /// Applies an operation whose answer was never seen (timeout, lost connection). Any answer is
    /// accepted, so only the effect matters. Models whose effect depends on the answer must
    /// choose the state consistent with the input alone.
    /// </summary>
    TState StepUnknown(TState state, TInput input);

    /// <summary>
    /// True when <paramref name="input"/> never changes the state (a read). The checker drops
    /// read-only operations whose outcome is unknown: they constrain nothing, and each one left
    /// in would double the search space. The default (false) keeps every operation.
    /// </summary>
    bool IsReadOnly(TInput input) => false;

    /// <summary>Value equality of states (memoization soundness depends on it).</summary>
    bool StateEquals(TState a, TState b);

    /// <summary>Hash consistent with <see cref="StateEquals"/>.</summary>
    int StateHash(TState state);

    /// <summary>
    /// Splits a history into independent sub-histories that can be checked separately (the
    /// history is linearizable iff every part is). The default keeps the history whole.
    /// </summary>
    IReadOnlyList<IReadOnlyList<Operation<TInput, TOutput>>> Partition(IReadOnlyList<Operation<TInput, TOutput>> history)
        => [history];

    /// <summary>Human-readable text for explanations.</summary>
    string Describe(TInput input, TOutput? output, bool outcomeUnknown)
        => outcomeUnknown ? $"{input} -> ?" : $"{input} -> {output}";

    /// <summary>Human-readable state for explanations.</summary>
    string DescribeState(TState state) => state?.ToString() ?? "<null>";
}
