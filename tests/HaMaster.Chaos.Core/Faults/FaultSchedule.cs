namespace HaMaster.Chaos.Core.Faults;

/// <summary>One entry of the fault menu: a kind and its relative weight (&gt; 0).</summary>
public sealed record FaultChoice<TKind>(TKind Kind, double Weight);

/// <summary>
/// Bounds of a schedule. Faults run one at a time: quiet gap in [<see cref="MinGap"/>, <see cref="MaxGap"/>],
/// then a fault held for [<see cref="MinHold"/>, <see cref="MaxHold"/>], then healed; no fault starts
/// after <see cref="Duration"/>. Defaults: 2 min total, gaps 1-4 s, holds 1-5 s.
/// </summary>
public sealed record FaultScheduleOptions(
    TimeSpan? Duration = null,
    TimeSpan? MinGap = null,
    TimeSpan? MaxGap = null,
    TimeSpan? MinHold = null,
    TimeSpan? MaxHold = null)
{
    public TimeSpan TotalDuration => Duration ?? TimeSpan.FromMinutes(2);
    public TimeSpan GapMin => MinGap ?? TimeSpan.FromSeconds(1);
    public TimeSpan GapMax => MaxGap ?? TimeSpan.FromSeconds(4);
    public TimeSpan HoldMin => MinHold ?? TimeSpan.FromSeconds(1);
    public TimeSpan HoldMax => MaxHold ?? TimeSpan.FromSeconds(5);

    public FaultScheduleOptions Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(TotalDuration, TimeSpan.Zero, nameof(Duration));
        ArgumentOutOfRangeException.ThrowIfLessThan(GapMin, TimeSpan.Zero, nameof(MinGap));
        ArgumentOutOfRangeException.ThrowIfLessThan(GapMax, GapMin, nameof(MaxGap));
        ArgumentOutOfRangeException.ThrowIfLessThan(HoldMin, TimeSpan.Zero, nameof(MinHold));
        ArgumentOutOfRangeException.ThrowIfLessThan(HoldMax, HoldMin, nameof(MaxHold));
        if (GapMax + HoldMax <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxGap), "gaps and holds cannot both be zero");
        }

        return this;
    }
}

/// <summary>A planned fault: start at <see cref="At"/> after the run starts, heal <see cref="HoldFor"/> later. <see cref="Salt"/> is a seeded random number for the harness to pick targets with (e.g. which node).</summary>
public sealed record ScheduledFault<TKind>(int Sequence, TimeSpan At, TKind Kind, TimeSpan HoldFor, int Salt);

/// <summary>
/// A seeded plan of faults drawn from a weighted menu: the same seed, menu and options give the
/// same plan, so a failing run is replayed by its seed. The plan is computed up front; <see cref="RunAsync"/>
/// executes it against real time (or a supplied <see cref="TimeProvider"/>). Immutable; RunAsync may run once at a time per harness.
/// </summary>
public sealed class FaultSchedule<TKind>
    where TKind : notnull
{
    public FaultSchedule(int seed, IReadOnlyList<FaultChoice<TKind>> menu, FaultScheduleOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(menu);
        if (menu.Count == 0 || menu.Any(c => !(c.Weight > 0) || double.IsInfinity(c.Weight)))
        {
            throw new ArgumentException("the menu needs at least one choice, every weight positive and finite", nameof(menu));
        }

        Seed = seed;
        Options = (options ?? new FaultScheduleOptions()).Validate();
        Faults = Plan(seed, menu, Options);
    }

    public int Seed { get; }

    public FaultScheduleOptions Options { get; }

    public IReadOnlyList<ScheduledFault<TKind>> Faults { get; }

    /// <summary>
    /// Runs the plan: waits until each fault's time, calls <paramref name="inject"/>, waits its hold,
    /// calls <paramref name="heal"/>. On cancellation a fault already injected is still healed
    /// (with an uncancelled token) before the cancellation propagates.
    /// </summary>
    public async Task RunAsync(
        Func<ScheduledFault<TKind>, CancellationToken, ValueTask> inject,
        Func<ScheduledFault<TKind>, CancellationToken, ValueTask> heal,
        TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inject);
        ArgumentNullException.ThrowIfNull(heal);
        time ??= TimeProvider.System;
        var start = time.GetTimestamp();
        foreach (var fault in Faults)
        {
            var wait = fault.At - time.GetElapsedTime(start);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, cancellationToken);
            }

            await inject(fault, cancellationToken);
            try
            {
                await Task.Delay(fault.HoldFor, time, cancellationToken);
            }
            finally
            {
                await heal(fault, CancellationToken.None);
            }
        }
    }

    private static ScheduledFault<TKind>[] Plan(int seed, IReadOnlyList<FaultChoice<TKind>> menu, FaultScheduleOptions options)
    {
        var random = new Random(seed);
        var totalWeight = menu.Sum(c => c.Weight);
        var plan = new List<ScheduledFault<TKind>>();
        var t = TimeSpan.Zero;
        while (true)
        {
            t += Between(random, options.GapMin, options.GapMax);
            if (t >= options.TotalDuration)
            {
                break;
            }

            var pick = random.NextDouble() * totalWeight;
            var choice = menu[^1];
            foreach (var candidate in menu)
            {
                if (pick < candidate.Weight)
                {
                    choice = candidate;
                    break;
                }

                pick -= candidate.Weight;
            }

            var hold = Between(random, options.HoldMin, options.HoldMax);
            plan.Add(new ScheduledFault<TKind>(plan.Count, t, choice.Kind, hold, random.Next()));
            t += hold;
        }

        return [.. plan];
    }

    private static TimeSpan Between(Random random, TimeSpan min, TimeSpan max)
        => min + TimeSpan.FromTicks((long)((max - min).Ticks * random.NextDouble()));
}
