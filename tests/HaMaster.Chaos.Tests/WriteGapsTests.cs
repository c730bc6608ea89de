using HaMaster.Chaos.Core.History;
using HaMaster.Chaos.Core.Models;
using HaMaster.Chaos.Failover;
using HaMaster.Chaos.Nemesis;

namespace HaMaster.Chaos.Tests;

/// <summary>The write-gap arithmetic behind issue 19's failover figures (per pause, per chaos fault).</summary>
public sealed class WriteGapsTests
{
    [Fact]
    public void The_gap_covering_a_fault_runs_from_the_last_write_before_it_to_the_first_after()
    {
        long[] writes = [0, 100, 200, 1500, 1600];
        Assert.Equal(1300, WriteGaps.LongestIn(writes, from: 250, to: 260, end: 2000));
    }

    [Fact]
    public void A_longer_gap_that_starts_after_the_window_belongs_to_the_next_one()
    {
        long[] writes = [0, 100, 200, 300, 2000];
        Assert.Equal(100, WriteGaps.LongestIn(writes, from: 50, to: 150, end: 2000));
    }

    [Fact]
    public void Without_writes_after_the_fault_the_gap_lasts_to_the_end_of_the_record()
    {
        long[] writes = [0, 100];
        Assert.Equal(900, WriteGaps.LongestIn(writes, from: 150, to: 500, end: 1000));
        Assert.Equal(850, WriteGaps.LongestIn([], from: 150, to: 500, end: 1000)); // no write at all: from the fault on
    }

    [Fact]
    public void Median_of_odd_and_even_counts()
    {
        Assert.Equal(2.0, WriteGaps.Median([3.0, 1.0, 2.0]));
        Assert.Equal(2.5, WriteGaps.Median([4.0, 1.0, 2.0, 3.0]));
        Assert.True(double.IsNaN(WriteGaps.Median([])));
    }

    [Fact]
    public void Each_pause_and_partition_fault_of_a_history_gets_its_own_gap()
    {
        var clock = new ManualClock();
        var history = new EventHistory<FsInput, FsOutput>(clock);
        void WriteAt(long ticks, FsStatus status = FsStatus.Ok)
        {
            clock.Ticks = ticks;
            var id = history.Invoke(1, FsInput.CreateFile($"/d/f{ticks}"));
            history.Ok(id, FsOutput.Of(status));
        }

        WriteAt(100);
        clock.Ticks = 150;
        history.RecordFault(nameof(FaultKind.PauseLeader), "SIGSTOP master 1 (leader)");
        WriteAt(900);
        WriteAt(950, FsStatus.AlreadyExists); // a failed write is no progress
        clock.Ticks = 1000;
        history.RecordFault(nameof(FaultKind.KillLeader), "kill -9 master 2 (leader)"); // not a failover-without-crash fault
        WriteAt(1800);
        clock.Ticks = 2000;
        history.RecordFault(nameof(FaultKind.IsolateLeader), "isolate master 3 (leader)");
        WriteAt(2100);

        var gaps = FaultWriteGaps.From(history, endTime: 2500);
        Assert.Equal([nameof(FaultKind.PauseLeader), nameof(FaultKind.IsolateLeader)], gaps.Select(g => g.Kind));
        Assert.Equal(TimeSpan.FromTicks(900), gaps[0].Gap); // 900 -> 1800 began before the next fault, so it counts here (100 -> 900 is shorter)
        Assert.Equal(TimeSpan.FromTicks(400), gaps[1].Gap); // 2100 -> the end of the record at 2500
        Assert.Contains("median", FaultWriteGaps.Format(gaps), StringComparison.Ordinal);
    }

    /// <summary>A clock whose timestamps are 100 ns ticks set by the test.</summary>
    private sealed class ManualClock : TimeProvider
    {
        public long Ticks { get; set; }

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Ticks;
    }
}
