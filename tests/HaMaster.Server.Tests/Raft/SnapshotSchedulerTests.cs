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
    private readonly string _dir = Directory.CreateTempSubdirectory("hamaster-snapsched-").FullName;
    private readonly RaftLog _log;
    private readonly SnapshotStore _store;
    private readonly JournalRaftStorage _storage;
    private readonly FakeMachine _machine = new();

    public SnapshotSchedulerTests()
    {
        _log = RaftLog.Open(new RaftLogOptions
        {
            Directory = Path.Combine(_dir, "log"),
            SegmentBytes = 64 << 10,
            PreallocateSegments = false,
            ZeroFillSegments = false,
        });
        _log.Append(Enumerable.Range(1, 50).Select(i => new LogRecord((ulong)i, 1, (byte)EntryType.Normal, new byte[] { 7 })).ToList());
        _log.Flush();
        _store = new SnapshotStore(Path.Combine(_dir, "snapshots"), keepNewest: 2);
        _storage = new JournalRaftStorage(_log, new HardState(1, 0, 0), Three, null);
    }

    public void Dispose()
    {
        _log.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private SnapshotScheduler Scheduler(long everyEntries = 10, long keptBehind = 4) =>
        new(_store, _machine, _storage, _log, everyEntries, keptBehind, new RaftHostHooks { Manual = true }, NullLogger.Instance, _ => throw new InvalidOperationException("a manual scheduler never posts"), CancellationToken.None);

    private static (ClusterConfig, byte[]) AsOf(ulong index) => (Three, [(byte)index]);

    [Fact]
    public void A_snapshot_is_taken_once_the_configured_number_of_entries_applied()
    {
        var scheduler = Scheduler(everyEntries: 10);
        var taken = new List<SnapshotMetadata>();
        scheduler.Taken += (meta, _, _) => taken.Add(meta);

        _machine.AppliedIndex = 9;
        scheduler.MaybeStart(9, AsOf);
        Assert.Empty(_store.List());

        _machine.AppliedIndex = 10;
        scheduler.MaybeStart(10, AsOf);
        Assert.Equal(10ul, Assert.Single(_store.List()).Index);
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
        Assert.Equal(27ul, _log.FirstIndex);
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

        Assert.Equal([30ul, 40ul], _store.List().Select(m => m.Index));
    }

    [Fact]
    public void Garbage_collection_never_deletes_the_snapshot_the_log_points_at()
    {
        var store = new SnapshotStore(Path.Combine(_dir, "gc"), keepNewest: 1);
        foreach (var index in new ulong[] { 10, 20, 30 })
        {
            var writer = store.BeginSnapshot(index, 1, ReadOnlyMemory<byte>.Empty);
            Directory.CreateDirectory(writer.Directory);
            File.WriteAllText(Path.Combine(writer.Directory, "data"), "x");
            writer.Commit(index, 1, new byte[] { 1 });
        }

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
            Directory.CreateDirectory(directory);
            File.WriteAllText(Path.Combine(directory, "state"), AppliedIndex.ToString(System.Globalization.CultureInfo.InvariantCulture));
            DuringCheckpoint?.Invoke();
            return (CheckpointHolds ?? AppliedIndex, 1);
        }

        public void RestoreSnapshot(string directory) => throw new NotSupportedException();
    }
}
