using System.Collections.Immutable;
using HaMaster.Chaos.Core.Linearizability;
using HaMaster.Chaos.Core.Models;

namespace HaMaster.Chaos.Core.Tests;

/// <summary>The checker's teeth on the register model: each classic anomaly is rejected, each legal overlap accepted.</summary>
public sealed class KvCheckerTests
{
    private static HistoryBuilder<KvInput, KvOutput> H() => new();

    private static LinearizabilityResult Check(IReadOnlyList<Operation<KvInput, KvOutput>> history, CheckerOptions? options = null, bool partition = true)
        => new LinearizabilityChecker<ImmutableSortedDictionary<string, string>, KvInput, KvOutput>(new KvModel(partition), options).Check(history);

    /// <summary>Default, lazy-only and eager-only handling of unknown outcomes must all agree.</summary>
    private static readonly CheckerOptions[] Strategies = [CheckerOptions.Default, new(EagerUnknownSteps: 0), new(EagerUnknownSteps: long.MaxValue)];

    private static void AssertRejected(IReadOnlyList<Operation<KvInput, KvOutput>> history)
    {
        foreach (var strategy in Strategies)
        {
            var result = Check(history, strategy);
            Assert.Equal(LinearizabilityVerdict.NotLinearizable, result.Verdict);
            Assert.Contains("NOT linearizable", result.Explain());
        }
    }

    private static void AssertAccepted(IReadOnlyList<Operation<KvInput, KvOutput>> history)
    {
        foreach (var strategy in Strategies)
        {
            var result = Check(history, strategy);
            Assert.True(result.IsLinearizable, result.Explain());
        }
    }

    [Fact]
    public void Empty_history_is_linearizable() => AssertAccepted([]);

    [Fact]
    public void Stale_read_after_a_completed_overwrite_is_rejected()
        => AssertRejected(H()
            .Ok(1, 0, 1, KvInput.Write("x", "1"), KvOutput.Done)
            .Ok(1, 2, 3, KvInput.Write("x", "2"), KvOutput.Done)
            .Ok(2, 4, 5, KvInput.Read("x"), KvOutput.Read("1"))
            .Build());

    [Fact]
    public void Lost_acknowledged_write_is_rejected()
        => AssertRejected(H()
            .Ok(1, 0, 1, KvInput.Write("x", "1"), KvOutput.Done)
            .Ok(2, 2, 3, KvInput.Read("x"), KvOutput.Read(null))
            .Build());

    [Fact]
    public void Compare_and_set_applied_twice_is_rejected()
        => AssertRejected(H()
            .Ok(1, 0, 1, KvInput.Cas("x", null, "a"), KvOutput.Cas(true))
            .Ok(2, 2, 3, KvInput.Cas("x", null, "a"), KvOutput.Cas(true))
            .Build());

    [Fact]
    public void Concurrent_double_compare_and_set_success_is_rejected()
        => AssertRejected(H()
            .Ok(1, 0, 10, KvInput.Cas("x", null, "a"), KvOutput.Cas(true))
            .Ok(2, 1, 9, KvInput.Cas("x", null, "b"), KvOutput.Cas(true))
            .Build());

    [Fact]
    public void Read_your_writes_violation_is_rejected()
        => AssertRejected(H()
            .Ok(2, 0, 1, KvInput.Write("x", "old"), KvOutput.Done)
            .Ok(1, 2, 3, KvInput.Write("x", "mine"), KvOutput.Done)
            .Ok(1, 4, 5, KvInput.Read("x"), KvOutput.Read("old"))
            .Build());

    [Fact]
    public void New_then_old_inversion_during_a_concurrent_write_is_rejected()
        => AssertRejected(H()
            .Ok(1, 0, 10, KvInput.Write("x", "1"), KvOutput.Done)
            .Ok(2, 1, 2, KvInput.Read("x"), KvOutput.Read("1"))
            .Ok(2, 3, 4, KvInput.Read("x"), KvOutput.Read(null))
            .Build());

    [Fact]
    public void Overlapping_reads_that_need_an_impossible_order_are_rejected()
        => AssertRejected(H()
            .Ok(1, 0, 1, KvInput.Write("x", "1"), KvOutput.Done)
            .Ok(2, 2, 3, KvInput.Write("x", "2"), KvOutput.Done)
            .Ok(3, 4, 6, KvInput.Read("x"), KvOutput.Read("2"))
            .Ok(4, 5, 7, KvInput.Read("x"), KvOutput.Read("1"))
            .Build());

    [Theory]
    [InlineData(null)]
    [InlineData("1")]
    public void Read_concurrent_with_a_write_may_see_either_value(string? seen)
        => AssertAccepted(H()
            .Ok(1, 0, 10, KvInput.Write("x", "1"), KvOutput.Done)
            .Ok(2, 1, 2, KvInput.Read("x"), KvOutput.Read(seen))
            .Build());

    [Fact]
    public void Concurrent_writes_may_linearize_in_either_order()
        => AssertAccepted(H()
            .Ok(1, 0, 10, KvInput.Write("x", "1"), KvOutput.Done)
            .Ok(2, 1, 9, KvInput.Write("x", "2"), KvOutput.Done)
            .Ok(3, 11, 12, KvInput.Read("x"), KvOutput.Read("1"))
            .Ok(3, 13, 14, KvInput.Read("x"), KvOutput.Read("1"))
            .Build());

    [Fact]
    public void Touching_intervals_count_as_concurrent()
        => AssertAccepted(H()
            .Ok(1, 0, 5, KvInput.Write("x", "1"), KvOutput.Done)
            .Ok(2, 5, 6, KvInput.Read("x"), KvOutput.Read(null))
            .Build());

    [Theory]
    [InlineData(null)]
    [InlineData("1")]
    public void Unknown_write_may_or_may_not_have_happened(string? seen)
        => AssertAccepted(H()
            .Unknown(1, 0, KvInput.Write("x", "1"))
            .Ok(2, 5, 6, KvInput.Read("x"), KvOutput.Read(seen))
            .Build());

    [Fact]
    public void Unknown_write_may_take_effect_long_after_its_client_gave_up()
        => AssertAccepted(H()
            .Unknown(1, 0, KvInput.Write("x", "1"))
            .Ok(2, 5, 6, KvInput.Read("x"), KvOutput.Read(null))
            .Ok(2, 7, 8, KvInput.Write("x", "2"), KvOutput.Done)
            .Ok(2, 9, 10, KvInput.Read("x"), KvOutput.Read("1"))
            .Build());

    [Fact]
    public void Unknown_write_once_visible_cannot_vanish()
        => AssertRejected(H()
            .Unknown(1, 0, KvInput.Write("x", "1"))
            .Ok(2, 5, 6, KvInput.Read("x"), KvOutput.Read("1"))
            .Ok(2, 7, 8, KvInput.Read("x"), KvOutput.Read(null))
            .Build());

    [Fact]
    public void Unknown_compare_and_set_is_placed_where_the_history_needs_it()
        => AssertAccepted(H()
            .Ok(1, 0, 1, KvInput.Write("x", "a"), KvOutput.Done)
            .Unknown(2, 2, KvInput.Cas("x", "a", "b"))
            .Ok(1, 3, 4, KvInput.Read("x"), KvOutput.Read("a"))
            .Ok(1, 5, 6, KvInput.Read("x"), KvOutput.Read("b"))
            .Ok(1, 7, 8, KvInput.Write("x", "a"), KvOutput.Done)
            .Ok(1, 9, 10, KvInput.Read("x"), KvOutput.Read("a"))
            .Build());

    [Fact]
    public void Unknown_compare_and_set_cannot_apply_twice()
        => AssertRejected(H()
            .Ok(1, 0, 1, KvInput.Write("x", "a"), KvOutput.Done)
            .Unknown(2, 2, KvInput.Cas("x", "a", "b"))
            .Ok(1, 5, 6, KvInput.Read("x"), KvOutput.Read("b"))
            .Ok(1, 7, 8, KvInput.Write("x", "a"), KvOutput.Done)
            .Ok(1, 9, 10, KvInput.Read("x"), KvOutput.Read("b"))
            .Build());

    [Fact]
    public void Unknown_read_is_ignored()
        => AssertAccepted(H()
            .Unknown(1, 0, KvInput.Read("x"))
            .Ok(2, 5, 6, KvInput.Read("x"), KvOutput.Read(null))
            .Build());

    [Fact]
    public void Unknown_write_cannot_take_effect_before_its_call()
        => AssertRejected(H()
            .Ok(2, 0, 1, KvInput.Read("x"), KvOutput.Read("1"))
            .Unknown(1, 2, KvInput.Write("x", "1"))
            .Build());

    [Fact]
    public void Keys_are_checked_as_independent_partitions()
    {
        var history = H()
            .Ok(1, 0, 1, KvInput.Write("x", "1"), KvOutput.Done)
            .Ok(1, 2, 3, KvInput.Write("y", "1"), KvOutput.Done)
            .Ok(2, 4, 5, KvInput.Read("x"), KvOutput.Read("1"))
            .Build();
        var result = Check(history);
        Assert.True(result.IsLinearizable);
        Assert.Equal(2, result.Partitions.Count);
        Assert.Equal(result.Verdict, Check(history, partition: false).Verdict);
    }

    [Fact]
    public void Explanation_names_the_prefix_and_the_blocked_operations()
    {
        var history = H()
            .Ok(1, 0, 1, KvInput.Write("x", "1"), KvOutput.Done)
            .Ok(2, 2, 3, KvInput.Read("x"), KvOutput.Read("1"))
            .Ok(2, 4, 5, KvInput.Read("x"), KvOutput.Read("9"))
            .Build();
        var result = Check(history);
        var partition = Assert.Single(result.Partitions);
        Assert.Equal(LinearizabilityVerdict.NotLinearizable, partition.Verdict);
        Assert.Equal([0, 1], partition.LongestPrefix);
        Assert.Equal([2], partition.Frontier);
        Assert.Contains("#2 client 2", partition.Explanation);
        Assert.Contains("{x=1}", partition.Explanation);
    }

    /// <summary>Many concurrent writes and an impossible final read: exponential without a budget.</summary>
    private static IReadOnlyList<Operation<KvInput, KvOutput>> HardHistory(int writers)
    {
        var builder = H();
        for (var i = 0; i < writers; i++)
        {
            builder.Ok(i, i, 1000 + i, KvInput.Write("x", i.ToString()), KvOutput.Done);
            builder.Ok(100 + i, 10 + i, 900 + i, KvInput.Read("x"), KvOutput.Read(((i + 1) % writers).ToString()));
        }

        return builder.Ok(999, 2000, 2001, KvInput.Read("x"), KvOutput.Read("never written")).Build();
    }

    [Fact]
    public void Exhausted_step_budget_gives_an_unknown_verdict()
    {
        var result = Check(HardHistory(12), new CheckerOptions(MaxSteps: 2_000));
        Assert.Equal(LinearizabilityVerdict.Unknown, result.Verdict);
        Assert.Contains("UNKNOWN", result.Explain());
    }

    [Fact]
    public void Cancellation_gives_an_unknown_verdict()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var checker = new LinearizabilityChecker<ImmutableSortedDictionary<string, string>, KvInput, KvOutput>(new KvModel());
        Assert.Equal(LinearizabilityVerdict.Unknown, checker.Check(HardHistory(12), cancelled.Token).Verdict);
    }

    [Fact]
    public void Options_validate_themselves()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new CheckerOptions(MaxSteps: 0).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new CheckerOptions(Timeout: TimeSpan.Zero).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => Operation.Completed(1, KvInput.Read("x"), 5, KvOutput.Read(null), 4));
    }
}
