using HaMaster.Journal;
using HaMaster.Protos.V1;
using HaMaster.Raft;
using HaMaster.Server.Configuration;
using HaMaster.Server.Raft;
using Microsoft.Extensions.Logging.Abstractions;

namespace HaMaster.Server.Tests.Simulation;

/// <summary>
/// One master of the host simulation: the real <see cref="RaftHost{TResult}"/> (driven by hand), journal, hard
/// state, snapshot store and cluster state file on a simulated disk (a <see cref="StorageFaultInjector"/>
/// that loses unsynced writes on a crash), with <see cref="SimStateMachine"/> as the state machine and
/// the simulated network as its transport.
/// </summary>
internal sealed class SimHostNode : IRaftTransport
{
    private readonly SimHostCluster _cluster;
    private readonly string _directory;

    public SimHostNode(SimHostCluster cluster, ulong id, string directory)
    {
        _cluster = cluster;
        Id = id;
        _directory = directory;
    }

    public ulong Id { get; }

    public int Incarnation { get; private set; }

    public RaftHost<ulong?>? Host { get; private set; }

    public RaftLog? Log { get; private set; }

    public SnapshotStore? Snapshots { get; private set; }

    public SimStateMachine? Machine { get; private set; }

    public bool Up => Host is not null;

    /// <summary>Step until which a crashed master stays down.</summary>
    public long DownUntil { get; set; }

    private StorageFaultInjector? _faults;
    private HardStateFile? _hardState;

    public static MasterOptions Options(ulong id, SimOptions o) => new()
    {
        NodeId = id,
        ElectionTicks = 10,
        HeartbeatTicks = 1,
        SnapshotEveryEntries = o.SnapshotEveryEntries,
        LogEntriesKeptBehindSnapshot = o.LogEntriesKeptBehindSnapshot,
        SnapshotsKept = 2,
    };

    /// <summary>Opens everything from the data directory, as a restarting process would. A simulated crash during recovery leaves it down.</summary>
    public void Start()
    {
        Incarnation++;
        _faults = new StorageFaultInjector();
        try
        {
            var o = _cluster.Options;
            Log = RaftLog.Open(new RaftLogOptions
            {
                Directory = Path.Combine(_directory, "raft-log"),
                SegmentBytes = 64 << 10,
                PreallocateSegments = false,
                ZeroFillSegments = false,
            }, _faults);
            _hardState = HardStateFile.Open(Path.Combine(_directory, "hardstate"), _faults);
            Snapshots = new SnapshotStore(Path.Combine(_directory, "snapshots"), 2, _faults);
            Machine = new SimStateMachine(Path.Combine(_directory, "machine"), _cluster.PersistApplyNow, (e, digest) => _cluster.OnApplied(this, e, digest));
            var bootstrap = new ClusterConfig(Enumerable.Range(1, o.InitialVoters).Select(i => (ulong)i));
            var hooks = new RaftHostHooks
            {
                Manual = true,
                RandomSeed = (ulong)o.Seed * 7919 + Id * 104729 + (ulong)Incarnation,
                CrashPoint = name => _cluster.AtCrashPoint(this, name),
                BugSkipLogTermCheck = o.BugSkipLogTermCheck,
                BugClusterStateAfterPublish = o.BugClusterStateAfterPublish,
            };
            Host = new RaftHost<ulong?>(Options(Id, o), NullLogger.Instance, Log, _hardState, Snapshots, Machine,
                new ClusterStateFile(_directory), bootstrap, new MemberDirectory(), hooks)
            {
                Transport = this,
            };
        }
        catch (SimulatedCrashException)
        {
            Crash();
            throw;
        }
    }

    /// <summary>kill -9: everything in memory is gone, and so is every write that was not synced.</summary>
    public void Crash()
    {
        var faults = _faults;
        faults?.Crash();
        try
        {
            Log?.Dispose();
        }
        catch (IOException)
        {
        }

        try
        {
            _hardState?.Dispose();
        }
        catch (IOException)
        {
        }

        faults?.LoseUnsyncedWrites();
        Host = null;
        Log = null;
        Snapshots = null;
        Machine = null;
        _hardState = null;
        _faults = null;
    }

    public void Send(IReadOnlyList<Message> messages) => _cluster.Enqueue(Id, messages);
}
