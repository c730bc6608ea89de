namespace HaMaster.Chaos.Core.Linearizability;

/// <summary>
/// One client operation of a concurrent history: invoked at <see cref="CallTime"/>, answered
/// <see cref="Output"/> at <see cref="ReturnTime"/>. Times are any monotonic unit, consistent
/// within one history. An operation whose outcome is unknown (timeout, connection lost) has
/// <see cref="ReturnTime"/> = <see cref="Never"/>: it may have taken effect at any moment after
/// its call, or never, and any answer is accepted.
/// </summary>
public sealed record Operation<TInput, TOutput>
{
    /// <summary>Return time of operations whose outcome is unknown.</summary>
    public const long Never = long.MaxValue;

    public Operation(int clientId, TInput input, long callTime, TOutput? output, long returnTime)
    {
        if (returnTime < callTime)
        {
            throw new ArgumentOutOfRangeException(nameof(returnTime), $"return time {returnTime} precedes call time {callTime}");
        }

        ClientId = clientId;
        Input = input;
        CallTime = callTime;
        Output = output;
        ReturnTime = returnTime;
    }

    public int ClientId { get; }
    public TInput Input { get; }
    public long CallTime { get; }

    /// <summary>The answer; meaningless when <see cref="IsUnknown"/>.</summary>
    public TOutput? Output { get; }

    public long ReturnTime { get; }

    public bool IsUnknown => ReturnTime == Never;
}

/// <summary>Factories for <see cref="Operation{TInput, TOutput}"/>.</summary>
public static class Operation
{
    public static Operation<TInput, TOutput> Completed<TInput, TOutput>(int clientId, TInput input, long callTime, TOutput output, long returnTime)
        => new(clientId, input, callTime, output, returnTime);

    /// <summary>An operation whose outcome was never seen: it may take effect at any time after <paramref name="callTime"/>, or never.</summary>
    public static Operation<TInput, TOutput> Unknown<TInput, TOutput>(int clientId, TInput input, long callTime)
        => new(clientId, input, callTime, default, Operation<TInput, TOutput>.Never);
}
