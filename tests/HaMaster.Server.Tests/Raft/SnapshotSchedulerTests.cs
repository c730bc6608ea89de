using HaMaster.Journal;
using HaMaster.Raft;
using HaMaster.Server.Raft;
using Microsoft.Extensions.Logging.Abstractions;

namespace HaMaster.Server.Tests.Raft;

/// <summary>
/// Local snapshots driven by hand (a manually driven host runs every step on the caller's thread) over a
/// real log and snapshot store in a temporary directory and a fake state machine: when a snapshot is due,
/// what it records, how far the log is compacted behind it and what garbage collection keeps.
/// </summary>
public sealed class SnapshotSchedulerTests : IDisposable
{
    private static readonly ClusterConfig Three = new([1, 2, 3]);
    private static readonly ClusterConfig Four = new([1, 2, 3, 4]);
    private readonly RaftDisk _disk = new(Enumerable.Repeat(1ul, 50));
    private readonly JournalRaftStorage _storage;
    private readonly FakeMachine _machine = new();

    public SnapshotSchedulerTests()
    {
        _storage = new JournalRaftStorage(Log, new HardState(1, 0, 0), Three, null);
    }

    private RaftLog Log => _disk.Log;

    private SnapshotStore Store => _disk.Snapshots;

    public void Dispose() => _disk.Dispose();

    private SnapshotScheduler Scheduler(long everyEntries = 10, long keptBehind = 4) =>
        new(Store, _machine, _storage, Log, everyEntries, keptBehind, new RaftHostHooks { Manual = true }, NullLogger.Instance, _ => throw new InvalidOperationException("a manual scheduler never posts"), CancellationToken.None);

    private static (ClusterConfig, byte[]) AsOf(ulong index) => (Three, [(byte)index]);

    [Fact]
    public void A_snapshot_is_taken_once_the_configured_number_of_entries_applied()
    {
        var scheduler = Scheduler(everyEntries: 10);
        var taken = new List<SnapshotMetadata>();
        scheduler.Taken += (meta, _, _) => taken.Add(meta);

        _machine.AppliedIndex = 9;
        scheduler.MaybeStart(9, AsOf);
        Assert.Empty(Store.List());

        _machine.AppliedIndex = 10;
        scheduler.MaybeStart(10, AsOf);
        Assert.Equal(10ul, Assert.Single(Store.List()).Index);
        Assert.Equal(10ul, Assert.Single(taken).Index);
        Assert.Equal(10ul, scheduler.LastIndex);
        Assert.Equal(10ul, _storage.Snapshot?.Index);

        _machine.AppliedIndex = 19;
        scheduler.MaybeStart(19, AsOf);
        Assert.Single(taken); // the next is due at 20
    }

    [Fact]
    public void The_log_is_compacted_behind_the_snapshot_keeping_the_configured_entries()
    {
        var scheduler = Scheduler(keptBehind: 4);
        _machine.AppliedIndex = 30;
        scheduler.Start(AsOf).GetAwaiter().GetResult();

        Assert.Equal(26ul, scheduler.CompactionPoint(30));
        Assert.Equal(27ul, Log.FirstIndex);
        Assert.Equal(0ul, scheduler.CompactionPoint(3));
    }

    [Fact]
    public void Garbage_collection_keeps_the_configured_number_of_snapshots()
    {
        var scheduler = Scheduler(everyEntries: 10);
        foreach (var applied in new ulong[] { 10, 20, 30, 40 })
        {
            _machine.AppliedIndex = applied;
            scheduler.MaybeStart(applied, AsOf);
        }

        Assert.Equal([30ul, 40ul], Store.List().Select(m => m.Index));
    }

    [Fact]
    public void Garbage_collection_never_deletes_the_snapshot_the_log_points_at()
    {
        var store = new SnapshotStore(Path.Combine(_disk.Directory, "gc"), keepNewest: 1);
        foreach (var index in new ulong[] { 10, 20, 30 }) RaftDisk.Publish(store, index, 1, [1]);

        SnapshotScheduler.CollectGarbage(store, new SnapshotMetadata(10, 1, Three));
        Assert.Equal([10ul, 30ul], store.List().Select(m => m.Index));
    }

    [Fact]
    public async Task A_snapshot_records_the_membership_as_of_the_index_its_checkpoint_holds()
    {
        var scheduler = Scheduler();
        _machine.AppliedIndex = 10;
        // While the checkpoint is written the loop applies a membership change at 11; the checkpoint
        // still holds 10, so the snapshot must carry the configuration as of 10.
        _machine.DuringCheckpoint = () => scheduler.ClusterStateChanged(11, Four, () => [11]);
        var meta = await scheduler.Start(AsOf);
        Assert.Equal(10ul, meta.Index);
        Assert.Equal(Three, meta.Config);

        _machine.AppliedIndex = 12;
        _machine.CheckpointHolds = 11; // this time the checkpoint caught the change
        _machine.DuringCheckpoint = () => scheduler.ClusterStateChanged(11, Four, () => [11]);
        meta = await scheduler.Start(_ => (Three, [10]));
        Assert.Equal(11ul, meta.Index);
        Assert.Equal(Four, meta.Config);
        Assert.False(scheduler.InProgress);
    }

    [Fact]
    public async Task Nothing_applied_means_no_snapshot_and_says_so()
    {
        var e = await Assert.ThrowsAsync<ClusterPreconditionException>(() => Scheduler().Start(AsOf));
        Assert.Contains("nothing has been applied", e.Message, StringComparison.Ordinal);
    }

    private sealed class FakeMachine : IStateMachineHost
    {
        public ulong AppliedIndex { get; set; }

        public ulong AppliedTerm => 1;

        public ulong? CheckpointHolds { get; set; }

        public Action? DuringCheckpoint { get; set; }

        public (ulong Index, ulong Term) CreateSnapshot(string directory)
        {
            RaftDisk.WriteState(directory, AppliedIndex);
            DuringCheckpoint?.Invoke();
            return (CheckpointHolds ?? AppliedIndex, 1);
        }

        public void RestoreSnapshot(string directory) => throw new NotSupportedException();
    }
}
