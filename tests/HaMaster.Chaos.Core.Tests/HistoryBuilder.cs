using HaMaster.Chaos.Core.Linearizability;

namespace HaMaster.Chaos.Core.Tests;

/// <summary>Terse construction of hand-written histories: times are small integers.</summary>
internal sealed class HistoryBuilder<TInput, TOutput>
{
    private readonly List<Operation<TInput, TOutput>> _ops = [];

    public HistoryBuilder<TInput, TOutput> Ok(int client, long call, long ret, TInput input, TOutput output)
    {
        _ops.Add(Operation.Completed(client, input, call, output, ret));
        return this;
    }

    public HistoryBuilder<TInput, TOutput> Unknown(int client, long call, TInput input)
    {
        _ops.Add(Operation.Unknown<TInput, TOutput>(client, input, call));
        return this;
    }

    public IReadOnlyList<Operation<TInput, TOutput>> Build() => [.. _ops];
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTime : TimeProvider
{
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
