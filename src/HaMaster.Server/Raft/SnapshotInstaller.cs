using Google.Protobuf;
using HaMaster.Journal;
using HaMaster.Protos.V1;
using HaMaster.Raft;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Raft;

// A received snapshot S (index, term) becomes this master's truth in this order, each step durable
// before the next, so that a crash at any point leaves a state the next start completes:
//   1. the install intent is recorded (SnapshotStore.RecordInstall): from here on a restart finishes it;
//   2. the log is reconciled with S (Raft Figure 13, step 6-7): kept if it holds S's entry with S's
//      term, else reset to start after S (a log that merely reaches S may hold a divergent entry there);
//   3. the state machine is replaced by S (skipped if it already applied S);
//   4. cluster.state takes the membership recorded in S, as of S's index;
//   5. S is published in the snapshot store and the intent removed.
// Only then is anything of the Ready that carried S acknowledged to the leader. A restart that finds
// the intent repeats 2-5 (each is idempotent); one that finds no intent still reconciles the log with
// the newest published snapshot and takes the newer of cluster.state and the snapshot's membership.

/// <summary>
/// Installs a snapshot received from the leader, and at start-up finishes one that a crash interrupted
/// (see the comment above for the order). Called only from the Raft loop thread (or the host's constructor).
/// </summary>
internal sealed class SnapshotInstaller(
    RaftLog log, SnapshotStore snapshots, IStateMachineHost stateMachine, ClusterStateFile clusterStateFile, RaftHostHooks hooks, ILogger logger)
{
    private readonly RaftLog _log = log;
    private readonly SnapshotStore _snapshots = snapshots;
    private readonly IStateMachineHost _stateMachine = stateMachine;
    private readonly ClusterStateFile _clusterStateFile = clusterStateFile;
    private readonly RaftHostHooks _hooks = hooks;
    private readonly ILogger _logger = logger;

    private void CrashPoint(string name) => _hooks.CrashPoint?.Invoke(name);

    /// <summary>Start-up: finishes an interrupted install and returns the newest snapshot and cluster state.</summary>
    public (SnapshotMetadata? Snapshot, ClusterState? State) Recover(ClusterConfig bootstrapConfig, MemberDirectory bootstrapDirectory)
    {
        CrashPoint(CrashPoints.RecoveryStarted);
        var fileState = _clusterStateFile.Read();
        if (_snapshots.PendingInstall is { } pending)
        {
            _logger.LogWarning("finishing the install of snapshot {Index}/{Term} that a restart interrupted", pending.Index, pending.Term);
            FinishInstall(pending, fileState);
            fileState = _clusterStateFile.Read();
        }

        var latest = _snapshots.Latest;
        if (latest is null) return (null, AsOfApplied(fileState, null, bootstrapConfig, bootstrapDirectory));

        var snapState = ClusterState.Parser.ParseFrom(latest.Config.Span);
        snapState.AppliedIndex = latest.Index; // the membership did not change between its recording and the checkpoint
        var meta = new SnapshotMetadata(latest.Index, latest.Term, ClusterConfig.FromBytes(snapState.RaftConfig.Span));
        ReconcileLog(latest.Index, latest.Term);
        if (_stateMachine.AppliedIndex < latest.Index)
        {
            // The store was lost, or a backup was imported: start from the snapshot.
            _logger.LogWarning("state machine applied index {Applied} is behind snapshot {Snapshot}: restoring it from the snapshot", _stateMachine.AppliedIndex, latest.Index);
            _stateMachine.RestoreSnapshot(_snapshots.PathOf(latest));
        }

        var state = _hooks.BugClusterStateAfterPublish ? fileState ?? snapState : ClusterStateFile.Newer(fileState, snapState, latest.Index);
        return (meta, AsOfApplied(state, snapState, bootstrapConfig, bootstrapDirectory));
    }

    /// <summary>
    /// cluster.state is written when a membership entry is applied, before the state machine's batch is
    /// durable, so after a crash it can be ahead of the state machine. Running that membership as of the
    /// state machine's index would put a later configuration into the next snapshot under an earlier
    /// index; instead it is rebuilt as of the applied index from the newest base at or below it (the
    /// snapshot's, or the bootstrap one) and the membership entries of the log after that base. The
    /// entries beyond the applied index are applied again, and write the file again.
    /// </summary>
    private ClusterState? AsOfApplied(ClusterState? state, ClusterState? snapshotState, ClusterConfig bootstrapConfig, MemberDirectory bootstrapDirectory)
    {
        var applied = _stateMachine.AppliedIndex;
        if (state is null || !state.HasAppliedIndex || state.AppliedIndex <= applied) return state;
        var baseState = snapshotState is not null && snapshotState.AppliedIndex <= applied
            ? snapshotState
            : ClusterStateFile.Create(bootstrapConfig, bootstrapDirectory, appliedIndex: 0);
        if (baseState.AppliedIndex + 1 < _log.FirstIndex)
        {
            return state; // the entries in between are compacted (cannot happen without a snapshot past them)
        }

        var config = ClusterConfig.FromBytes(baseState.RaftConfig.Span);
        var directory = baseState.Directory;
        for (var lo = baseState.AppliedIndex + 1; lo <= applied;)
        {
            var records = _log.Read(lo, applied + 1, 4L << 20);
            if (records.Count == 0) break;
            foreach (var r in records)
            {
                if (r.Kind == (byte)EntryType.ConfigChange) config = ConfigTransition.Decode(r.Payload.Span).Result;
                else if (r.Payload.Length > 0 && r.Payload.Span[0] == HostEntry.MemberDirectoryTag) directory = HostEntry.DecodeDirectory(r.Payload.Span);
            }

            lo = records[^1].Index + 1;
        }

        _logger.LogWarning("cluster.state is as of index {FileIndex}, ahead of the state machine ({Applied}): membership rebuilt as of {Applied} from the log", state.AppliedIndex, applied, applied);
        return ClusterStateFile.Create(config, directory, applied);
    }

    /// <summary>
    /// Raft Figure 13 steps 6-7 for a snapshot at (index, term): a log holding that entry keeps the
    /// entries after it; any other log (shorter, or with a different term there) restarts after it.
    /// A log whose own snapshot boundary is already past the index is left alone.
    /// </summary>
    private void ReconcileLog(ulong index, ulong term)
    {
        var lookup = _log.TryGetTerm(index, out var logTerm);
        if (lookup == TermLookup.Compacted) return;
        if (lookup == TermLookup.Found && logTerm == term) return;
        if (_hooks.BugSkipLogTermCheck && lookup == TermLookup.Found) return; // injected bug: the old rule
        _logger.LogWarning("log reset to snapshot {Index}/{Term}: the log {Reason}", index, term,
            lookup == TermLookup.Found ? $"holds term {logTerm} there" : $"ends at {_log.LastIndex}");
        _log.ResetToSnapshot(index, term);
    }

    /// <summary>Steps 2-5 of an install (see the file comment); returns the installed cluster state.</summary>
    private ClusterState FinishInstall(SnapshotManifest manifest, ClusterState? fileState)
    {
        ReconcileLog(manifest.Index, manifest.Term);
        CrashPoint(CrashPoints.InstallLogReset);
        if (_stateMachine.AppliedIndex < manifest.Index)
        {
            _stateMachine.RestoreSnapshot(_snapshots.PathForInstall(manifest));
        }

        CrashPoint(CrashPoints.InstallStateMachineRestored);
        var state = ClusterState.Parser.ParseFrom(manifest.Config.Span);
        state.AppliedIndex = manifest.Index;
        var fileIsOlder = fileState is null || !fileState.HasAppliedIndex || fileState.AppliedIndex < manifest.Index;
        if (_hooks.BugClusterStateAfterPublish)
        {
            _snapshots.CompleteInstall(manifest);
            CrashPoint(CrashPoints.InstallPublished);
            if (fileIsOlder) _clusterStateFile.Write(state);
            CrashPoint(CrashPoints.InstallClusterStateWritten);
            return state;
        }

        if (fileIsOlder) _clusterStateFile.Write(state);
        CrashPoint(CrashPoints.InstallClusterStateWritten);
        _snapshots.CompleteInstall(manifest);
        CrashPoint(CrashPoints.InstallPublished);
        return state;
    }

    /// <summary>
    /// The core accepted a snapshot from the leader (it is staged in the store): makes it this master's
    /// truth (steps 1-5) and returns the cluster state it carries.
    /// </summary>
    public ClusterState Install(SnapshotMetadata meta)
    {
        var manifest = _snapshots.FindStaged(meta.Index, meta.Term)
            ?? _snapshots.List().FirstOrDefault(m => m.Index == meta.Index && m.Term == meta.Term)
            ?? throw new InvalidOperationException($"snapshot {meta.Index}/{meta.Term} accepted by the core is not in the snapshot store");
        _snapshots.RecordInstall(manifest);
        CrashPoint(CrashPoints.InstallIntentRecorded);
        return FinishInstall(manifest, _clusterStateFile.Read());
    }
}
