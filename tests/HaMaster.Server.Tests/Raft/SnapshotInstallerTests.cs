using Google.Protobuf;
using HaMaster.Journal;
using HaMaster.Protos.V1;
using HaMaster.Raft;
using HaMaster.Server.Raft;
using Microsoft.Extensions.Logging.Abstractions;

namespace HaMaster.Server.Tests.Raft;

/// <summary>
/// Start-up recovery against a published snapshot (Raft Figure 13, steps 6-8) on a real log, snapshot store
/// and cluster state file in a temporary directory, with a fake state machine that records restores.
/// </summary>
public sealed class SnapshotInstallerTests : IDisposable
{
    private static readonly ClusterConfig Three = new([1, 2, 3]);
    private static readonly ClusterConfig Four = new([1, 2, 3, 4]);
    private readonly RaftDisk _disk = new(Enumerable.Range(1, 20).Select(i => i <= 10 ? 1ul : 2ul));
    private readonly ClusterStateFile _clusterState;
    private readonly FakeMachine _machine = new();

    public SnapshotInstallerTests()
    {
        _clusterState = new ClusterStateFile(_disk.Directory);
    }

    private RaftLog Log => _disk.Log;

    public void Dispose() => _disk.Dispose();

    private SnapshotInstaller Installer() => new(Log, _disk.Snapshots, _machine, _clusterState, RaftHostHooks.None, NullLogger.Instance);

    private void Publish(ulong index, ulong term, ClusterConfig config) =>
        RaftDisk.Publish(_disk.Snapshots, index, term, ClusterStateFile.Create(config, new MemberDirectory(), index).ToByteArray());

    [Fact]
    public void A_log_holding_the_snapshots_entry_in_its_term_keeps_the_entries_after_it()
    {
        Publish(15, 2, Four);
        var (snapshot, state) = Installer().Recover(Three, new MemberDirectory());

        Assert.Equal((15ul, 2ul), (snapshot!.Index, snapshot.Term));
        Assert.Equal(Four, snapshot.Config);
        Assert.Equal(20ul, Log.LastIndex);
        Assert.Equal(1, _machine.Restores); // applied nothing yet: restored from the snapshot
        Assert.Equal(Four, ClusterConfig.FromBytes(state!.RaftConfig.Span));
    }

    [Fact]
    public void A_log_with_another_term_at_the_snapshots_index_restarts_after_it()
    {
        Publish(15, 3, Four); // the log has term 2 at 15: its entries after it may diverge
        _machine.AppliedIndex = 15;
        var (snapshot, _) = Installer().Recover(Three, new MemberDirectory());

        Assert.Equal(15ul, snapshot!.Index);
        Assert.Equal(15ul, Log.LastIndex);
        Assert.Equal(TermLookup.Compacted, Log.TryGetTerm(14, out _));
        Assert.Equal(0, _machine.Restores); // already applied it
    }

    [Fact]
    public void Without_a_snapshot_the_bootstrap_membership_is_not_invented()
    {
        var (snapshot, state) = Installer().Recover(Three, new MemberDirectory());
        Assert.Null(snapshot);
        Assert.Null(state); // first start: the host writes the bootstrap membership itself
        Assert.Equal(20ul, Log.LastIndex);
    }

    private sealed class FakeMachine : IStateMachineHost
    {
        public ulong AppliedIndex { get; set; }

        public ulong AppliedTerm => 1;

        public int Restores { get; private set; }

        public (ulong Index, ulong Term) CreateSnapshot(string directory) => throw new NotSupportedException();

        public void RestoreSnapshot(string directory)
        {
            AppliedIndex = RaftDisk.ReadState(directory);
            Restores++;
        }
    }
}
