namespace HaMaster.Chaos.Core.Linearizability;

/// <summary>
/// Bounds on the linearizability search, which is NP-complete in general: when a bound is hit
/// the verdict is <see cref="LinearizabilityVerdict.Unknown"/>, never a hang.
/// </summary>
/// <param name="Timeout">Wall-clock budget for the whole check (all partitions). Default 30 s.</param>
/// <param name="MaxSteps">Budget of search steps (model steps plus backtracks) for the whole check. Default 50 million.</param>
/// <param name="MaxExplainedOperations">How many operations of the longest linearizable prefix an explanation lists (the last ones). Default 25.</param>
/// <param name="EagerUnknownSteps">
/// For partitions with unknown-outcome operations: steps (plus 50 per operation) granted to the
/// search that tries unknown operations as early as possible before the one that tries them
/// as late as possible takes over. 0 skips the eager search. Default 100 000.
/// </param>
public sealed record CheckerOptions(TimeSpan? Timeout = null, long MaxSteps = 50_000_000, int MaxExplainedOperations = 25, long EagerUnknownSteps = 100_000)
{
    public static CheckerOptions Default { get; } = new();

    public TimeSpan EffectiveTimeout => Timeout ?? TimeSpan.FromSeconds(30);

    public CheckerOptions Validate()
    {
        if (EffectiveTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Timeout), "timeout must be positive");
        }

        if (MaxSteps <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxSteps), "step budget must be positive");
        }

        if (EagerUnknownSteps < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(EagerUnknownSteps), "must not be negative");
        }

        if (MaxExplainedOperations <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxExplainedOperations), "must be positive");
        }

        return this;
    }
}
