using HaMaster.Chaos.Core.Faults;
using HaMaster.Chaos.Core.History;
using HaMaster.Chaos.Core.Linearizability;
using HaMaster.Chaos.Core.Models;

namespace HaMaster.Chaos.Core.Tests;

public sealed class FaultScheduleTests
{
    private enum Fault
    {
        Kill,
        Pause,
        Partition,
    }

    private static readonly FaultChoice<Fault>[] Menu = [new(Fault.Kill, 8), new(Fault.Pause, 1), new(Fault.Partition, 1)];

    private static readonly FaultScheduleOptions Long = new(TimeSpan.FromHours(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.Zero, TimeSpan.FromSeconds(1));

    [Fact]
    public void Same_seed_gives_the_same_plan_and_another_seed_another()
    {
        var a = new FaultSchedule<Fault>(42, Menu, Long).Faults;
        Assert.Equal(a, new FaultSchedule<Fault>(42, Menu, Long).Faults);
        Assert.NotEqual(a, new FaultSchedule<Fault>(43, Menu, Long).Faults);
    }

    [Fact]
    public void Plan_respects_bounds_and_weights()
    {
        var faults = new FaultSchedule<Fault>(7, Menu, Long).Faults;
        Assert.True(faults.Count > 1000);
        var end = TimeSpan.Zero;
        foreach (var fault in faults)
        {
            Assert.True(fault.At >= end + TimeSpan.FromSeconds(1) && fault.At <= end + TimeSpan.FromSeconds(2));
            Assert.InRange(fault.HoldFor, TimeSpan.Zero, TimeSpan.FromSeconds(1));
            Assert.True(fault.At < TimeSpan.FromHours(1));
            end = fault.At + fault.HoldFor;
        }

        var kills = faults.Count(f => f.Kind == Fault.Kill);
        Assert.True(kills > 3 * faults.Count(f => f.Kind == Fault.Pause), "weight 8 vs 1");
        Assert.Contains(faults, f => f.Kind == Fault.Partition);
    }

    [Fact]
    public void Invalid_menus_and_bounds_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new FaultSchedule<Fault>(1, [], Long));
        Assert.Throws<ArgumentException>(() => new FaultSchedule<Fault>(1, [new(Fault.Kill, 0)], Long));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FaultScheduleOptions(MinGap: TimeSpan.FromSeconds(2), MaxGap: TimeSpan.FromSeconds(1)).Validate());
    }

    [Fact]
    public async Task Run_injects_and_heals_each_fault_in_order()
    {
        var options = new FaultScheduleOptions(TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(10), TimeSpan.Zero, TimeSpan.FromMilliseconds(5));
        var schedule = new FaultSchedule<Fault>(3, Menu, options);
        var log = new List<string>();
        await schedule.RunAsync(
            (f, _) => { log.Add($"inject {f.Sequence}"); return ValueTask.CompletedTask; },
            (f, _) => { log.Add($"heal {f.Sequence}"); return ValueTask.CompletedTask; })
            .WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotEmpty(schedule.Faults);
        Assert.Equal(schedule.Faults.SelectMany(f => new[] { $"inject {f.Sequence}", $"heal {f.Sequence}" }), log);
    }

    [Fact]
    public async Task Cancellation_still_heals_the_injected_fault()
    {
        var options = new FaultScheduleOptions(TimeSpan.FromHours(1), TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromHours(1), TimeSpan.FromHours(1));
        var schedule = new FaultSchedule<Fault>(3, Menu, options);
        using var cancel = new CancellationTokenSource();
        var healed = new TaskCompletionSource();
        var run = schedule.RunAsync(
            (_, _) => { cancel.Cancel(); return ValueTask.CompletedTask; },
            (_, token) => { Assert.False(token.IsCancellationRequested); healed.SetResult(); return ValueTask.CompletedTask; },
            cancellationToken: cancel.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(healed.Task.IsCompleted);
    }

    [Fact]
    public void Summary_counts_faults_and_outcomes_and_finds_the_longest_write_gap()
    {
        var time = new ManualTime();
        var history = new EventHistory<FsInput, FsOutput>(time);
        void Do(FsInput input, FsOutput output, int seconds)
        {
            var id = history.Invoke(1, input);
            time.Advance(TimeSpan.FromSeconds(seconds));
            history.Ok(id, output);
        }

        Do(FsInput.Mkdir("/a"), FsOutput.Ok, 1);                                // write ok at 1 s
        history.RecordFault("kill", "node 0");
        Do(FsInput.Mkdir("/a"), FsOutput.Of(FsStatus.AlreadyExists), 1);        // refused: not a successful write
        Do(FsInput.GetStatus("/a"), FsOutput.Found(FsKind.Directory, 493), 1);
        history.RecordFault("kill", "node 1");
        history.RecordFault("partition", "{0} {1,2}");
        Do(FsInput.Mkdir("/b"), FsOutput.Ok, 5);                                 // next write ok at 8 s
        history.Unknown(history.Invoke(2, FsInput.Delete("/b")), "timeout");
        time.Advance(TimeSpan.FromSeconds(2));                                   // run ends at 10 s

        var check = new LinearizabilityChecker<FsState, FsInput, FsOutput>(new FsModel()).Check(history.ToOperations());
        var summary = ChaosSummary.From(history, (input, output) => input.IsMutation && output.Status == FsStatus.Ok, seed: 99, check, "h.jsonl");
        Assert.Equal(2, summary.FaultsByKind["kill"]);
        Assert.Equal(1, summary.FaultsByKind["partition"]);
        Assert.Equal(4, summary.OperationsByOutcome[OpOutcome.Ok]);
        Assert.Equal(1, summary.OperationsByOutcome[OpOutcome.Unknown]);
        Assert.Equal(TimeSpan.FromSeconds(7), summary.LongestWindowWithoutSuccessfulWrite);
        Assert.Equal(TimeSpan.FromSeconds(1), summary.LongestWindowStart);
        Assert.Equal(LinearizabilityVerdict.Linearizable, summary.Verdict);
        var text = summary.Format();
        Assert.Contains("seed: 99", text);
        Assert.Contains("longest window without a successful write: 7.000 s", text);
    }
}
