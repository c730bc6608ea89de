using System.Collections.Concurrent;
using System.Diagnostics;
using HaMaster.Journal;
using HaMaster.Protos.V1;
using HaMaster.Raft;
using HaMaster.Server.Configuration;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Raft;

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
/// </summary>
internal sealed partial class RaftHost : IDisposable
{
    private readonly MasterOptions _options;
    private readonly ILogger _logger;
    private readonly RawNode _node;
    private readonly RaftLog _log;
    private readonly HardStateFile _hardState;
    private readonly SnapshotStore _snapshots;
    private readonly JournalRaftStorage _storage;
    private readonly IStateMachineHost _stateMachine;
    private readonly ClusterStateFile _clusterStateFile;
    private readonly RaftHostHooks _hooks;
    private readonly ConcurrentQueue<Action> _inbox = new();
    private readonly LoopWakeup _wake = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<AppliedResult> _appliedResults = [];
    private readonly Dictionary<ulong, PendingProposal> _pending = [];
    private readonly PriorityQueue<TaskCompletionSource, ulong> _appliedWaiters = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private Thread? _thread;
    private HardState _savedHardState;
    private ClusterConfig _appliedConfig;
    private MemberDirectory _directory;
    private ulong _lastSnapshotIndex;
    private bool _snapshotInProgress;
    private readonly LoopIterationTimer _iteration = new(LoopIterationTimer.DefaultSlowThreshold);
    private volatile RaftObservedState _observed;
    private volatile Exception? _fatal;

    public RaftHost(
        MasterOptions options,
        ILogger logger,
        RaftLog log,
        HardStateFile hardState,
        SnapshotStore snapshots,
        IStateMachineHost stateMachine,
        ClusterStateFile clusterStateFile,
        ClusterConfig bootstrapConfig,
        MemberDirectory bootstrapDirectory,
        RaftHostHooks? hooks = null)
    {
        _options = options;
        _logger = logger;
        _log = log;
        _hardState = hardState;
        _snapshots = snapshots;
        _stateMachine = stateMachine;
        _clusterStateFile = clusterStateFile;
        _hooks = hooks ?? RaftHostHooks.None;

        var (snapshotMeta, state) = Recover(bootstrapConfig, bootstrapDirectory);
        if (state is null)
        {
            // First start: remember the bootstrap membership so restarts need no flags to find their peers.
            state = ClusterStateFile.Create(bootstrapConfig, bootstrapDirectory, appliedIndex: 0);
            clusterStateFile.Write(state);
        }

        _appliedConfig = ClusterConfig.FromBytes(state.RaftConfig.Span);
        _appliedConfigIndex = state.AppliedIndex;
        _directory = state.Directory;
        var latest = snapshots.Latest;

        var hs = hardState.Current;
        // The commit index is saved lazily (only with term/vote changes): everything the state
        // machine applied was committed, so it is a safe lower bound after a restart.
        var commit = Math.Min(Math.Max(hs.Commit, stateMachine.AppliedIndex), Math.Max(_log.LastIndex, snapshotMeta?.Index ?? 0));
        _savedHardState = new HardState(hs.Term, hs.VotedFor, commit);
        var initialConfig = snapshotMeta?.Config ?? (latest is null && _log.LastIndex == 0 ? bootstrapConfig : _appliedConfig);
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
        _observed = RaftObservedState.Initial(options.NodeId) with { AppliedIndex = stateMachine.AppliedIndex, SnapshotIndex = _lastSnapshotIndex };
    }

    /// <summary>Raised on a thread-pool thread when this master's role or the known leader changes.</summary>
    public event Action<RaftObservedState>? LeadershipChanged;

    /// <summary>A consistent, cheap view of the loop's state for other threads (updated every iteration).</summary>
    public RaftObservedState Observed => _observed;

    /// <summary>Addresses of every master, as last applied.</summary>
    public MemberDirectory Directory => _directory;

    /// <summary>The membership as last applied (loop thread, or a manually driven host's caller).</summary>
    internal ClusterConfig AppliedConfig => _appliedConfig;

    /// <summary>The log index <see cref="AppliedConfig"/> and <see cref="Directory"/> are as of.</summary>
    internal ulong AppliedConfigIndex => _appliedConfigIndex;

    private ulong _appliedConfigIndex;

    private readonly ConcurrentDictionary<ulong, string> _learnedAddresses = new();

    /// <summary>
    /// Peer address of a master: from the replicated directory, else as announced by the master
    /// itself in its last peer call (a master that joined before this one applied its address).
    /// </summary>
    public string? PeerAddressOf(ulong id)
    {
        foreach (var m in _directory.Members)
        {
            if (m.Id == id && m.PeerAddress.Length > 0) return m.PeerAddress;
        }

        return _learnedAddresses.TryGetValue(id, out var learned) ? learned : null;
    }

    /// <summary>
    /// Whether Raft messages from master <paramref name="id"/> may reach the core: it is a voter or
    /// learner of the applied configuration or listed in the member directory. A master that belongs
    /// to no configuration yet (started with --join, waiting to be added) cannot know the leader that
    /// adds it before its first entries or snapshot arrive, so it accepts any sender that passed the
    /// peer port's authentication. Thread-safe.
    /// </summary>
    public bool IsKnownPeer(ulong id)
    {
        if (id == 0 || id == _options.NodeId) return false;
        var config = Volatile.Read(ref _appliedConfig);
        if (config.Contains(id)) return true;
        foreach (var m in Volatile.Read(ref _directory).Members)
        {
            if (m.Id == id) return true;
        }

        return config.Voters.Count == 0 && config.Learners.Count == 0;
    }

    public void LearnPeerAddress(ulong id, string peerAddress)
    {
        if (id != _options.NodeId) _learnedAddresses[id] = peerAddress;
    }

    private readonly Queue<LeadershipEvent> _leaderHistory = new();

    /// <summary>The last 20 role/leader changes seen by this master, oldest first.</summary>
    public IReadOnlyList<LeadershipEvent> LeadershipHistory
    {
        get
        {
            lock (_leaderHistory) return _leaderHistory.ToArray();
        }
    }

    /// <summary>Instruments to record into; set once before <see cref="Start"/>.</summary>
    public Observability.MasterMetrics? Metrics { get; set; }

    /// <summary>The transport that sends the core's messages; set once before <see cref="Start"/>.</summary>
    public IRaftTransport? Transport { get; set; }

    /// <summary>The snapshot store (for the snapshot sender and receiver).</summary>
    public SnapshotStore Snapshots => _snapshots;

    public ulong NodeId => _options.NodeId;

    public void Start()
    {
        if (_hooks.Manual) throw new InvalidOperationException("a manually driven host has no loop thread: call RunIteration");
        _thread = new Thread(RunLoop) { IsBackground = true, Name = $"raft-loop-{_options.NodeId}" };
        _thread.Start();
        StartHeartbeatPump();
    }

    /// <summary>Runs <paramref name="work"/> on the Raft loop thread, soon. Thread-safe.</summary>
    public void Post(Action work)
    {
        _inbox.Enqueue(work);

        // Wake the loop only on the 0 -> 1 transition: a flood of posts costs one wake-up, not one each.
        if (Interlocked.Exchange(ref _signaled, 1) == 0) _wake.Release();
    }

    private int _signaled;

    /// <summary>Runs <paramref name="work"/> on the loop thread and returns its result.</summary>
    public Task<T> InvokeAsync<T>(Func<T> work)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            try
            {
                tcs.TrySetResult(work());
            }
            catch (Exception e)
            {
                tcs.TrySetException(e);
            }
        });
        return tcs.Task;
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

            StopPumpIfNotLeader();
        });
    }

    /// <summary>The full core status (progress of every follower on the leader). Runs on the loop.</summary>
    public Task<RaftStatus> GetStatusAsync() => InvokeAsync(() => _node.Status);

    public void ReportUnreachable(ulong peer) => Post(() => _node.ReportUnreachable(peer));

    public void ReportSnapshot(ulong peer, bool success) => Post(() => _node.ReportSnapshot(peer, success));

    private void RunLoop()
    {
        var tickTicks = (long)(_options.TickInterval.TotalSeconds * Stopwatch.Frequency);
        var nextTick = _clock.ElapsedTicks + tickTicks;
        var loggedFatal = false;
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                var now = _clock.ElapsedTicks;
                var waitMs = (int)Math.Max(0, (nextTick - now) * 1000 / Stopwatch.Frequency);
                if (_inbox.IsEmpty) _wake.Wait(waitMs, _stopping.Token);

                // Reset before draining: a post that lands after the drain sees 0 and wakes us again.
                Interlocked.Exchange(ref _signaled, 0);

                _iteration.Begin();
                now = _clock.ElapsedTicks;
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

                MarkIteration(running: true);
                Iterate(tick);
                MarkIteration(running: false);
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

                FailAllPending(e);
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
            OnTick();
        }

        while (_node.HasReady())
        {
            ProcessReady(_node.GetReady());
        }

        PublishObserved();
        RefreshHeartbeatPlan();
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

    /// <summary>True when posted work is waiting for the next iteration.</summary>
    public bool HasPostedWork => !_inbox.IsEmpty;

    /// <summary>Set when the loop stopped on an unrecoverable error (e.g. disk failure).</summary>
    public Exception? Fatal => _fatal;

    private void ProcessReady(Ready rd)
    {
        if (rd.SoftState is { } soft) OnSoftState(soft);

        // A leader's appends go out first, so the followers write their disks while we write ours.
        if (rd.MessagesBeforePersist.Count > 0) Transport?.Send(rd.MessagesBeforePersist);

        if (rd.Snapshot is { } snapshot)
        {
            // A snapshot from the leader, already received and staged in the snapshot store. It
            // becomes this master's truth here, before anything of this Ready is acknowledged: log
            // reset, state machine, cluster state, then published (see InstallSnapshot).
            InstallReceivedSnapshot(snapshot);
        }

        if (rd.EntriesToPersist.Count > 0)
        {
            var records = new LogRecord[rd.EntriesToPersist.Count];
            for (var i = 0; i < records.Length; i++) records[i] = JournalRaftStorage.ToRecord(rd.EntriesToPersist[i]);
            _log.Append(records);
            CrashPoint(CrashPoints.EntriesAppended);
        }

        if (rd.HardState is { } hs)
        {
            if (hs.Term != _savedHardState.Term || hs.Vote != _savedHardState.Vote)
            {
                // Term and vote must be durable before any message of this Ready leaves (Figure 2).
                _hardState.Save(new HardStateRecord(hs.Term, hs.Vote, hs.Commit));
                _savedHardState = hs;
                CrashPoint(CrashPoints.HardStateSaved);
            }
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

        foreach (var read in rd.ReadStates) OnReadState(read);
        foreach (var dropped in rd.DroppedReads) OnReadDropped(dropped);

        _node.Advance(rd);
    }

    private void ApplyCommitted(IReadOnlyList<Entry> entries)
    {
        _appliedResults.Clear();
        foreach (var e in entries)
        {
            if (e.Type == EntryType.ConfigChange) OnConfigChangeCommitted(e);
            else if (!e.Data.IsEmpty && e.Data.Span[0] == HostEntry.MemberDirectoryTag) OnDirectoryCommitted(e);
        }

        var started = Stopwatch.GetTimestamp();
        _stateMachine.Apply(entries, _appliedResults);
        CrashPoint(CrashPoints.Applied);
        _iteration.Applied(Stopwatch.GetElapsedTime(started), entries.Count);
        Metrics?.Applied(entries.Count);
        foreach (var r in _appliedResults) CompleteProposal(r);

        // Proposals at indexes now applied that got no result saw a different entry win their index.
        var applied = _stateMachine.AppliedIndex;
        if (_pending.Count > 0)
        {
            List<ulong>? lost = null;
            foreach (var (index, p) in _pending)
            {
                if (index <= applied) (lost ??= []).Add(index);
            }

            if (lost is not null)
            {
                foreach (var index in lost)
                {
                    _pending.Remove(index, out var p);
                    p!.Completion.TrySetException(new ProposalLostException($"leadership changed before entry {index} (term {p.Term}) committed; retry"));
                }
            }
        }

        ReleaseAppliedWaiters(applied);
        MaybeSnapshot(applied);
    }

    private void OnConfigChangeCommitted(Entry e)
    {
        var transition = ConfigTransition.Decode(e.Data.Span);
        _appliedConfig = transition.Result;
        _appliedConfigIndex = e.Index;
        ClusterStateChanged(e.Index);
        CrashPoint(CrashPoints.ConfigClusterStateWritten);
        LogMessages.MembershipChanged(_logger, transition.Change.Kind.ToString(), transition.Change.NodeId, _appliedConfig.ToString(), e.Index);
    }

    private void OnDirectoryCommitted(Entry e)
    {
        _directory = HostEntry.DecodeDirectory(e.Data.Span);
        _appliedConfigIndex = e.Index;
        ClusterStateChanged(e.Index);
    }

    private void PublishObserved()
    {
        var prev = _observed;
        var config = _node.Configuration;
        if (prev.Term == _node.Term && prev.CommitIndex == _node.CommitIndex && prev.LastLogIndex == _storage.LastIndex
            && prev.AppliedIndex == _stateMachine.AppliedIndex && prev.SnapshotIndex == _lastSnapshotIndex
            && prev.IsVoter == config.IsVoter(_options.NodeId) && prev.IsLearner == config.IsLearner(_options.NodeId))
        {
            return;
        }

        var next = prev with
        {
            Term = _node.Term,
            CommitIndex = _node.CommitIndex,
            LastLogIndex = _storage.LastIndex,
            AppliedIndex = _stateMachine.AppliedIndex,
            SnapshotIndex = _lastSnapshotIndex,
            IsVoter = config.IsVoter(_options.NodeId),
            IsLearner = config.IsLearner(_options.NodeId),
        };
        if (next != prev) _observed = next;
    }

    private void OnSoftState(SoftState soft)
    {
        var prev = _observed;
        var next = prev with { LeaderId = soft.Leader, Role = soft.Role, LeaderChangedAt = DateTimeOffset.UtcNow };
        _observed = next;
        if (prev.LeaderId != soft.Leader || prev.Role != soft.Role)
        {
            Metrics?.LeaderChanged();
            lock (_leaderHistory)
            {
                _leaderHistory.Enqueue(new LeadershipEvent(DateTimeOffset.UtcNow, soft.Leader, _node.Term, soft.Role.ToString()));
                while (_leaderHistory.Count > 20) _leaderHistory.Dequeue();
            }

            LogMessages.LeadershipChanged(_logger, _options.NodeId, soft.Role.ToString(), soft.Leader, _node.Term);
            var handler = LeadershipChanged;
            if (handler is not null) ThreadPool.QueueUserWorkItem(_ => handler(next));
        }

        // On losing leadership, pending proposals stay: they may still commit under the new
        // leader, and a different entry at their index fails them when it applies. Reads waiting
        // for this leader's confirmation are dropped by the core (DroppedReads) or time out.
    }

    private void FailAllPending(Exception e)
    {
        foreach (var p in _pending.Values) p.Completion.TrySetException(e);
        _pending.Clear();
        while (_appliedWaiters.TryDequeue(out var w, out _)) w.TrySetException(e);
        FailAllReads(e);
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _wake.Release();
        _thread?.Join(TimeSpan.FromSeconds(10));
        try
        {
            _snapshotWork?.Wait(TimeSpan.FromSeconds(30));
        }
        catch (AggregateException)
        {
            // Its failure was reported to whoever asked for the snapshot.
        }

        _wake.Dispose();
        _stopping.Dispose();
    }
}
