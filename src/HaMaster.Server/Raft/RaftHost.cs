using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf;
using HaMaster.Journal;
using HaMaster.Protos.V1;
using HaMaster.Raft;
using HaMaster.Server.Configuration;
using HaMaster.Server.Peers;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Raft;

/// <summary>The master's Raft host: applied journal entries answer their proposers with a <see cref="CommandResult"/>.</summary>
internal sealed class RaftHost(
    MasterOptions options, ILogger logger, RaftLog log, HardStateFile hardState, SnapshotStore snapshots, IStateMachineHost<CommandResult> stateMachine,
    ClusterStateFile clusterStateFile, ClusterConfig bootstrapConfig, MemberDirectory bootstrapDirectory, RaftHostHooks? hooks = null)
    : RaftHost<CommandResult>(options, logger, log, hardState, snapshots, stateMachine, clusterStateFile, bootstrapConfig, bootstrapDirectory, hooks);

/// <summary>
/// Drives the pure consensus core (<see cref="RawNode"/>) with time, disk and network: the
/// Raft loop. One dedicated thread owns the core, the log, the hard state and the state
/// machine's write side; every other thread talks to it by posting work to its inbox
/// (<see cref="Post"/>), and learns outcomes through tasks completed asynchronously (never
/// inline on the loop thread).
///
/// Each iteration: run posted work (peer messages, proposals, reads, admin calls), tick the
/// core's clock, then process every <see cref="Ready"/> in the order its contract requires:
/// send a leader's appends, install snapshot, append entries + hard state with ONE fsync on
/// this thread (group commit: everything proposed since the last iteration shares it), send
/// the remaining messages, apply committed entries in one state-machine batch, release reads,
/// then <see cref="RawNode.Advance"/>.
///
/// The concerns around the loop are collaborators it owns, each called only from the loop thread
/// unless it says otherwise: <see cref="ProposalTracker{TResult}"/>, <see cref="ReadIndexBatcher"/>
/// and <see cref="AppliedWaiters"/>, <see cref="SnapshotScheduler"/>, <see cref="SnapshotInstaller"/>,
/// <see cref="AppliedMembership"/>, <see cref="MembershipChanges"/>, <see cref="SilentLeaderProbe"/>
/// and <see cref="HeartbeatPump"/>.
/// </summary>
/// <typeparam name="TResult">What the state machine answers a proposer with once its entry applied.</typeparam>
internal partial class RaftHost<TResult> : IMembershipLoop, IDisposable
{
    private readonly MasterOptions _options;
    private readonly ILogger _logger;
    private readonly RawNode _node;
    private readonly RaftLog _log;
    private readonly HardStateFile _hardState;
    private readonly JournalRaftStorage _storage;
    private readonly IStateMachineHost<TResult> _stateMachine;
    private readonly ClusterStateFile _clusterStateFile;
    private readonly RaftHostHooks _hooks;
    private readonly ConcurrentQueue<Action> _inbox = new();
    private readonly LoopWakeup _wake = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<AppliedResult<TResult>> _appliedResults = [];
    private readonly ProposalTracker<TResult> _proposals = new();
    private readonly AppliedWaiters _appliedWaiters = new();
    private readonly ReadIndexBatcher _reads;
    private readonly SnapshotScheduler _snapshotScheduler;
    private readonly SnapshotInstaller _installer;
    private readonly AppliedMembership _membership;
    private readonly MembershipChanges _changes;
    private readonly SilentLeaderProbe _probe;
    private readonly HeartbeatPump _pump;
    private readonly LoopIterationTimer _iteration = new(LoopIterationTimer.DefaultSlowThreshold);
    private Thread? _thread;
    private HardState _savedHardState;
    private int _signaled;
    private readonly ObservedStatePublisher _observed;
    private volatile Exception? _fatal;

    public RaftHost(
        MasterOptions options,
        ILogger logger,
        RaftLog log,
        HardStateFile hardState,
        SnapshotStore snapshots,
        IStateMachineHost<TResult> stateMachine,
        ClusterStateFile clusterStateFile,
        ClusterConfig bootstrapConfig,
        MemberDirectory bootstrapDirectory,
        RaftHostHooks? hooks = null)
    {
        _options = options;
        _logger = logger;
        _log = log;
        _hardState = hardState;
        Snapshots = snapshots;
        _stateMachine = stateMachine;
        _clusterStateFile = clusterStateFile;
        _hooks = hooks ?? RaftHostHooks.None;
        _installer = new SnapshotInstaller(log, snapshots, stateMachine, clusterStateFile, _hooks, logger);

        var (snapshotMeta, state) = _installer.Recover(bootstrapConfig, bootstrapDirectory);
        if (state is null)
        {
            // First start: remember the bootstrap membership so restarts need no flags to find their peers.
            state = ClusterStateFile.Create(bootstrapConfig, bootstrapDirectory, appliedIndex: 0);
            clusterStateFile.Write(state);
        }

        _membership = new AppliedMembership(options.NodeId, state);
        var hs = hardState.Current;
        // The commit index is saved lazily (only with term/vote changes): everything the state
        // machine applied was committed, so it is a safe lower bound after a restart.
        var commit = Math.Min(Math.Max(hs.Commit, stateMachine.AppliedIndex), Math.Max(_log.LastIndex, snapshotMeta?.Index ?? 0));
        _savedHardState = new HardState(hs.Term, hs.VotedFor, commit);
        var initialConfig = snapshotMeta?.Config ?? (snapshots.Latest is null && _log.LastIndex == 0 ? bootstrapConfig : _membership.Config);
        _storage = new JournalRaftStorage(log, _savedHardState, initialConfig, snapshotMeta);

        var raftOptions = new RaftOptions
        {
            Id = options.NodeId,
            ElectionTicks = options.ElectionTicks,
            HeartbeatTicks = options.HeartbeatTicks,
            PreVote = true,
            CheckQuorum = true,
            MaxInflightMessages = 256,
            MaxSizePerMessage = 1 << 20,
            MaxUncommittedEntriesBytes = 256L << 20,
            RandomSeed = _hooks.RandomSeed ?? (ulong)Environment.TickCount64 ^ ((ulong)Environment.ProcessId << 20),
            Applied = stateMachine.AppliedIndex,
        };
        _node = new RawNode(raftOptions, _storage);
        _observed = new ObservedStatePublisher(RaftObservedState.Initial(options.NodeId) with { AppliedIndex = stateMachine.AppliedIndex, SnapshotIndex = snapshotMeta?.Index ?? 0 }, logger);

        _reads = new ReadIndexBatcher(_node.ReadIndex, () => _observed.Current.LeaderId, () => _stateMachine.AppliedIndex, Post, _appliedWaiters, options.ElectionTicks);
        _snapshotScheduler = new SnapshotScheduler(snapshots, stateMachine, _storage, log, options.SnapshotEveryEntries, options.LogEntriesKeptBehindSnapshot, _hooks, logger, Post, _stopping.Token)
        {
            LastIndex = snapshotMeta?.Index ?? 0,
        };
        _snapshotScheduler.Taken += OnSnapshotTaken;
        _changes = new MembershipChanges(this, options.ElectionTicks, options.TickInterval);
        _probe = new SilentLeaderProbe(LeaderProbe.IsRefusedAsync, (leader, term) => _node.Term == term && _node.ForgetLeader(leader), _membership.PeerAddressOf,
            Post, options.HeartbeatTicks, options.TickInterval, logger, _stopping.Token);
        _pump = new HeartbeatPump(options.NodeId, options.TickInterval * options.HeartbeatTicks, options.TickInterval * (2 * options.ElectionTicks), () => _observed.Current, () => Transport);
    }

    /// <summary>Raised on a thread-pool thread when this master's role or the known leader changes.</summary>
    public event Action<RaftObservedState>? LeadershipChanged
    {
        add => _observed.LeadershipChanged += value;
        remove => _observed.LeadershipChanged -= value;
    }

    /// <summary>A consistent, cheap view of the loop's state for other threads (updated every iteration).</summary>
    public RaftObservedState Observed => _observed.Current;

    /// <summary>Addresses of every master, as last applied.</summary>
    public MemberDirectory Directory => _membership.Directory;

    /// <summary>The membership as last applied.</summary>
    internal ClusterConfig AppliedConfig => _membership.Config;

    /// <summary>The log index <see cref="AppliedConfig"/> and <see cref="Directory"/> are as of (loop thread, or a manually driven host's caller).</summary>
    internal ulong AppliedConfigIndex => _membership.Index;

    /// <inheritdoc cref="AppliedMembership.PeerAddressOf"/>
    public string? PeerAddressOf(ulong id) => _membership.PeerAddressOf(id);

    /// <inheritdoc cref="AppliedMembership.IsKnownPeer"/>
    public bool IsKnownPeer(ulong id) => _membership.IsKnownPeer(id);

    public void LearnPeerAddress(ulong id, string peerAddress) => _membership.LearnPeerAddress(id, peerAddress);

    /// <summary>The last 20 role/leader changes seen by this master, oldest first.</summary>
    public IReadOnlyList<LeadershipEvent> LeadershipHistory => _observed.History;

    /// <summary>Instruments to record into; set once before <see cref="Start"/>.</summary>
    public Observability.MasterMetrics? Metrics { get; set; }

    /// <summary>The transport that sends the core's messages; set once before <see cref="Start"/>.</summary>
    public IRaftTransport? Transport { get; set; }

    /// <summary>The snapshot store (for the snapshot sender and receiver).</summary>
    public SnapshotStore Snapshots { get; }

    public ulong NodeId => _options.NodeId;

    /// <summary>Set when the loop stopped on an unrecoverable error (e.g. disk failure).</summary>
    public Exception? Fatal => _fatal;

    /// <summary>True when posted work is waiting for the next iteration.</summary>
    public bool HasPostedWork => !_inbox.IsEmpty;

    public void Start()
    {
        if (_hooks.Manual) throw new InvalidOperationException("a manually driven host has no loop thread: call RunIteration");
        _thread = new Thread(RunLoop) { IsBackground = true, Name = $"raft-loop-{_options.NodeId}" };
        _thread.Start();
        _pump.Start(_stopping.Token);
    }

    /// <summary>Runs <paramref name="work"/> on the Raft loop thread, soon. Thread-safe.</summary>
    public void Post(Action work)
    {
        _inbox.Enqueue(work);

        // Wake the loop only on the 0 -> 1 transition: a flood of posts costs one wake-up, not one each.
        if (Interlocked.Exchange(ref _signaled, 1) == 0) _wake.Release();
    }

    /// <summary>Hands peer messages to the core (called by the RaftPeer service).</summary>
    public void Deliver(IReadOnlyList<Message> messages)
    {
        Post(() =>
        {
            foreach (var m in messages)
            {
                if (m.To != _options.NodeId)
                {
                    LogMessages.MisaddressedMessage(_logger, m.To, m.From);
                    continue;
                }

                _node.Step(m);
            }

            _pump.StopIfNotLeader(_node.Role);
        });
    }

    public void ReportUnreachable(ulong peer) => Post(() => _node.ReportUnreachable(peer));

    public void ReportSnapshot(ulong peer, bool success) => Post(() => _node.ReportSnapshot(peer, success));

    private void RunLoop()
    {
        var clock = Stopwatch.StartNew();
        var tickTicks = (long)(_options.TickInterval.TotalSeconds * Stopwatch.Frequency);
        var nextTick = clock.ElapsedTicks + tickTicks;
        var loggedFatal = false;
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                var now = clock.ElapsedTicks;
                var waitMs = (int)Math.Max(0, (nextTick - now) * 1000 / Stopwatch.Frequency);
                if (_inbox.IsEmpty) _wake.Wait(waitMs, _stopping.Token);

                // Reset before draining: a post that lands after the drain sees 0 and wakes us again.
                Interlocked.Exchange(ref _signaled, 0);

                _iteration.Begin();
                now = clock.ElapsedTicks;
                var tick = now >= nextTick;
                if (tick)
                {
                    // A late loop (a long iteration, a GC pause, CPU starvation, SIGSTOP) normally replays the ticks it
                    // missed, one per iteration after the posted work, so a follower's clock keeps real time and a
                    // silent leader is replaced on time even on a starved machine (a follower that campaigns over its
                    // own stall is harmless: the others' leases refuse it). A leader does not replay: its burst would
                    // count silence it did not observe (answers that arrived meanwhile may still sit in the receive
                    // path) and fail check-quorum over its own stall; a new leader would even step down at once (issue
                    // 19: seen with short election timeouts under load). Its clock then runs slow during stalls, which
                    // only delays its stepping down; nothing needs it to keep real time (RaftOptions.LeaseReads is off).
                    nextTick += tickTicks;
                    var behind = now - nextTick;
                    if (behind > 10 * tickTicks || (behind >= 0 && _node.Role == RaftRole.Leader)) nextTick = now + tickTicks;
                }

                _pump.MarkIteration(running: true);
                Iterate(tick);
                _pump.MarkIteration(running: false);
                _iteration.End(Metrics, _logger);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // Storage failures leave the node unable to keep its promises: stop serving rather
                // than acknowledge anything it cannot make durable.
                _fatal = e;
                if (!loggedFatal)
                {
                    LogMessages.RaftLoopFailed(_logger, e);
                    loggedFatal = true;
                }

                _proposals.FailAll(e);
                _appliedWaiters.FailAll(e);
                _reads.FailAll(e);
                _stopping.Cancel();
            }
        }
    }

    /// <summary>
    /// One loop iteration: posted work (bounded, so ticks and Ready processing are never starved by a
    /// flood of posts), a tick of the core's clock if <paramref name="tick"/>, then every Ready.
    /// </summary>
    private void Iterate(bool tick)
    {
        var posted = 0;
        while (posted < 4096 && _inbox.TryDequeue(out var work))
        {
            work();
            posted++;
        }

        _iteration.Inbox(posted);
        if (tick)
        {
            _node.Tick();
            _probe.Tick(_node.Role, _node.LeaderId, _node.LeaderSilenceTicks, _node.Term);
            _changes.Tick(_observed.Current.LeaderId);
            _reads.Tick();
        }

        while (_node.HasReady())
        {
            ProcessReady(_node.GetReady());
        }

        var config = _node.Configuration;
        _observed.Progress(_node.Term, _node.CommitIndex, _storage.LastIndex, _stateMachine.AppliedIndex, _snapshotScheduler.LastIndex,
            config.IsVoter(_options.NodeId), config.IsLearner(_options.NodeId));
        _pump.Refresh(_node.Role, _node.Term, _node.Configuration);
    }

    /// <summary>
    /// Drives a <see cref="RaftHostHooks.Manual"/> host: one loop iteration on the caller's thread.
    /// An exception (a simulated crash) leaves the host unusable, as a crash would.
    /// </summary>
    public void RunIteration(bool tick)
    {
        if (!_hooks.Manual) throw new InvalidOperationException("only a manually driven host runs iterations on the caller's thread");
        Interlocked.Exchange(ref _signaled, 0);
        Iterate(tick);
    }

    private void ProcessReady(Ready rd)
    {
        // On losing leadership, pending proposals stay: they may still commit under the new leader, and a
        // different entry at their index fails them when it applies. Reads waiting for this leader's
        // confirmation are dropped by the core (DroppedReads) or time out.
        if (rd.SoftState is { } soft && _observed.SoftState(soft, _node.Term)) Metrics?.LeaderChanged();

        // A leader's appends go out first, so the followers write their disks while we write ours.
        if (rd.MessagesBeforePersist.Count > 0) Transport?.Send(rd.MessagesBeforePersist);

        // A snapshot from the leader, already received and staged in the snapshot store, becomes this
        // master's truth here, before anything of this Ready is acknowledged (SnapshotInstaller).
        if (rd.Snapshot is { } snapshot) InstallReceivedSnapshot(snapshot);

        if (rd.EntriesToPersist.Count > 0)
        {
            var records = new LogRecord[rd.EntriesToPersist.Count];
            for (var i = 0; i < records.Length; i++) records[i] = JournalRaftStorage.ToRecord(rd.EntriesToPersist[i]);
            _log.Append(records);
            CrashPoint(CrashPoints.EntriesAppended);
        }

        if (rd.HardState is { } hs && (hs.Term != _savedHardState.Term || hs.Vote != _savedHardState.Vote))
        {
            // Term and vote must be durable before any message of this Ready leaves (Figure 2).
            _hardState.Save(new HardStateRecord(hs.Term, hs.Vote, hs.Commit));
            _savedHardState = hs;
            CrashPoint(CrashPoints.HardStateSaved);
        }

        if (rd.EntriesToPersist.Count > 0)
        {
            var started = Stopwatch.GetTimestamp();
            _log.Flush();
            var elapsed = Stopwatch.GetElapsedTime(started);
            _iteration.Fsync(elapsed, rd.EntriesToPersist.Count);
            Metrics?.Fsync(elapsed, rd.EntriesToPersist.Count);
            CrashPoint(CrashPoints.EntriesFlushed);
        }

        if (rd.Messages.Count > 0) Transport?.Send(rd.Messages);

        if (rd.CommittedEntries.Count > 0) ApplyCommitted(rd.CommittedEntries);

        foreach (var read in rd.ReadStates) _reads.OnReadState(read);
        foreach (var dropped in rd.DroppedReads) _reads.OnReadDropped(dropped);

        _node.Advance(rd);
    }

    private void ApplyCommitted(IReadOnlyList<Entry> entries)
    {
        _appliedResults.Clear();
        foreach (var e in entries)
        {
            if (e.Type == EntryType.ConfigChange)
            {
                var transition = ConfigTransition.Decode(e.Data.Span);
                _membership.ConfigApplied(e.Index, transition.Result);
                ClusterStateChanged(e.Index);
                CrashPoint(CrashPoints.ConfigClusterStateWritten);
                LogMessages.MembershipChanged(_logger, transition.Change.Kind.ToString(), transition.Change.NodeId, transition.Result.ToString(), e.Index);
            }
            else if (!e.Data.IsEmpty && e.Data.Span[0] == HostEntry.MemberDirectoryTag)
            {
                _membership.DirectoryApplied(e.Index, HostEntry.DecodeDirectory(e.Data.Span));
                ClusterStateChanged(e.Index);
            }
        }

        var started = Stopwatch.GetTimestamp();
        _stateMachine.Apply(entries, _appliedResults);
        CrashPoint(CrashPoints.Applied);
        _iteration.Applied(Stopwatch.GetElapsedTime(started), entries.Count);
        Metrics?.Applied(entries.Count);
        foreach (var r in _appliedResults) _proposals.Complete(r);

        // Proposals at indexes now applied that got no result saw a different entry win their index.
        var applied = _stateMachine.AppliedIndex;
        _proposals.FailUnansweredUpTo(applied);
        _appliedWaiters.Release(applied);
        _snapshotScheduler.MaybeStart(applied, ClusterStateNow);
    }

    /// <summary>The configuration or the member directory changed as of <paramref name="index"/>: persist cluster.state.</summary>
    private void ClusterStateChanged(ulong index)
    {
        var state = _membership.ToClusterState(index);
        _clusterStateFile.Write(state);
        _snapshotScheduler.ClusterStateChanged(index, _membership.Config, state.ToByteArray);
    }

    private (ClusterConfig Config, byte[] State) ClusterStateNow(ulong index) => (_membership.Config, _membership.ToClusterState(index).ToByteArray());

    /// <summary>The core accepted a snapshot from the leader: install it, then bring everything that depends on the applied state up to it.</summary>
    private void InstallReceivedSnapshot(SnapshotMetadata meta)
    {
        var state = _installer.Install(meta);
        _storage.Snapshot = meta;
        _membership.Installed(meta.Index, meta.Config, state.Directory);
        _snapshotScheduler.Installed(meta, state.ToByteArray);
        _proposals.FailCoveredBySnapshot(meta.Index);
        _appliedWaiters.Release(_stateMachine.AppliedIndex);
        LogMessages.SnapshotInstalled(_logger, meta.Index, meta.Term);
    }

    private void CrashPoint(string name) => _hooks.CrashPoint?.Invoke(name);
}
