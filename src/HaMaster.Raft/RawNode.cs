using HaMaster.Raft.Log;
using HaMaster.Raft.Tracking;

namespace HaMaster.Raft;

/// <summary>
/// A Raft node as a deterministic state machine (etcd-raft's RawNode shape): no I/O, clock, threads or randomness
/// beyond the seeded PRNG. The host drives it with <see cref="Tick"/>, <see cref="Step"/>, <see cref="Propose"/>,
/// <see cref="ReadIndex"/> and consumes <see cref="GetReady"/> / <see cref="Advance"/>.
/// Concurrency contract: not thread-safe; every call must come from one host loop (or be externally serialized).
/// </summary>
public sealed partial class RawNode
{
    private readonly RaftOptions _options;
    private readonly NodeLog _log;
    private readonly ulong _id;
    private Prng _rng;

    private ulong _term;
    private ulong _vote;
    private ulong _lead;
    private RaftRole _role;

    private int _electionElapsed;
    private int _heartbeatElapsed;
    private int _randomizedElectionTimeout;
    private long _ticks;
    private long _ticksSinceStart;

    private readonly List<Message> _messages = [];
    private readonly List<ReadState> _readStates = [];
    private readonly List<ReadOnlyMemory<byte>> _droppedReads = [];

    private SoftState _prevSoft;
    private HardState _prevHard;
    private bool _readyOutstanding;
    private ReadyReceipt _receipt;

    private readonly record struct ReadyReceipt(ulong LastEntryIndex, ulong LastEntryTerm, ulong SnapshotIndex, ulong LastCommittedIndex, HardState? Hard, SoftState? Soft, long CommittedBytesOfTerm);

    public RawNode(RaftOptions options, IRaftLogStorage storage)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(storage);
        _options = options.Validate();
        _id = options.Id;
        _rng = new Prng(options.RandomSeed ^ (options.Id * 0x9E3779B97F4A7C15UL));
        _log = new NodeLog(storage);

        var hs = storage.InitialHardState;
        var applied = Math.Max(Math.Max(options.Applied, storage.Snapshot?.Index ?? 0), storage.FirstIndex - 1);
        _log.SetInitialState(hs.Commit, applied);
        LoadConfigHistory(storage);

        BecomeFollower(hs.Term, 0);
        _term = hs.Term;
        _vote = hs.Vote;
        _prevHard = new HardState(_term, _vote, _log.Committed);
        _prevSoft = new SoftState(0, ReportedRole);
    }

    /// <summary>This node's id.</summary>
    public ulong Id => _id;

    /// <summary>Current term (cheap; no allocation).</summary>
    public ulong Term => _term;

    /// <summary>Current role as reported in <see cref="SoftState"/>.</summary>
    public RaftRole Role => ReportedRole;

    /// <summary>Known leader id, or 0.</summary>
    public ulong LeaderId => _lead;

    /// <summary>Index of the last entry handed out for applying (the host applies before <see cref="Advance"/>).</summary>
    public ulong AppliedIndex => _log.Applied;

    /// <summary>Commit index.</summary>
    public ulong CommitIndex => _log.Committed;

    /// <summary>The configuration in force (the latest in this node's log, committed or not).</summary>
    public ClusterConfig Configuration => Config;

    /// <summary>Advances the logical clock by one tick: drives elections, heartbeats, check-quorum and transfer timeouts.</summary>
    public void Tick()
    {
        _ticks++;
        _ticksSinceStart++;
        if (_role == RaftRole.Leader) TickLeader();
        else TickElection();
    }

    /// <summary>Starts an election now (pre-vote first if enabled). For bootstrap and tests.</summary>
    public void Campaign()
    {
        if (_role != RaftRole.Leader) StartCampaign(_options.PreVote ? CampaignKind.PreElection : CampaignKind.Election, transfer: false);
    }

    /// <summary>Proposes a command. Expected refusals are returned as values (see <see cref="ProposeStatus"/>).</summary>
    public ProposeResult Propose(ReadOnlyMemory<byte> data)
    {
        var refusal = CheckCanPropose();
        if (refusal is { } r) return r;
        if (_options.MaxUncommittedEntriesBytes > 0 && _uncommittedBytes > 0 && _uncommittedBytes + data.Length > _options.MaxUncommittedEntriesBytes)
            return new ProposeResult(ProposeStatus.UncommittedLimit, 0, 0, _lead);
        var entry = AppendAsLeader(EntryType.Normal, data);
        return new ProposeResult(ProposeStatus.Accepted, entry.Index, entry.Term, _id);
    }

    private ProposeResult? CheckCanPropose()
    {
        if (_role != RaftRole.Leader) return new ProposeResult(ProposeStatus.NotLeader, 0, 0, _lead);
        if (_leadTransferee != 0) return new ProposeResult(ProposeStatus.TransferInProgress, 0, 0, _lead);
        return null;
    }

    /// <summary>Tells the leader that messages to <paramref name="id"/> failed: stop pipelining and probe.</summary>
    public void ReportUnreachable(ulong id)
    {
        if (_role == RaftRole.Leader && _progress.TryGetValue(id, out var pr) && pr.State == ProgressState.Replicate) pr.BecomeProbe();
    }

    /// <summary>Tells the leader whether the snapshot streamed to <paramref name="id"/> was installed. Must be called
    /// for every <see cref="MessageType.Snapshot"/> message sent, or the follower stays paused.</summary>
    public void ReportSnapshot(ulong id, bool success)
    {
        if (_role != RaftRole.Leader || !_progress.TryGetValue(id, out var pr) || pr.State != ProgressState.Snapshot) return;
        if (!success) pr.AbortSnapshot();
        pr.BecomeProbe();
        // Wait for the follower's append response (success) or the next heartbeat response (failure) before probing.
        pr.ProbeSent = true;
    }

    /// <summary>True if <see cref="GetReady"/> would return work.</summary>
    public bool HasReady()
    {
        FlushBroadcast();
        if (_messages.Count > 0 || _readStates.Count > 0 || _droppedReads.Count > 0) return true;
        if (_log.Unstable.Entries.Count > 0 || _log.Unstable.Snapshot is not null) return true;
        if (_log.HasNextCommittedEntries) return true;
        if (CurrentHardState != _prevHard) return true;
        return CurrentSoftState != _prevSoft;
    }

    /// <summary>Returns the next batch of work; see <see cref="Ready"/> for the processing contract.</summary>
    public Ready GetReady()
    {
        if (_readyOutstanding) throw new InvalidOperationException("GetReady called twice without Advance.");
        FlushBroadcast();
        var soft = CurrentSoftState;
        var hard = CurrentHardState;
        var snapshot = _log.Unstable.Snapshot;
        var entries = _log.Unstable.Entries.Count == 0 ? Array.Empty<Entry>() : _log.Unstable.Entries.ToArray();
        var committed = _log.NextCommittedEntries(_options.MaxCommittedSizePerReady);
        long committedOfTerm = 0;
        if (_role == RaftRole.Leader)
        {
            for (var i = 0; i < committed.Count; i++) if (committed[i].Term == _term) committedOfTerm += committed[i].PayloadSize;
        }
        var termOrVoteChanged = hard.Term != _prevHard.Term || hard.Vote != _prevHard.Vote;
        var (early, late) = SplitMessages(termOrVoteChanged);
        var ready = new Ready
        {
            SoftState = soft != _prevSoft ? soft : null,
            HardState = hard != _prevHard ? hard : null,
            Snapshot = snapshot,
            EntriesToPersist = entries,
            CommittedEntries = committed,
            MessagesBeforePersist = early,
            Messages = late,
            ReadStates = TakeAll(_readStates),
            DroppedReads = TakeAll(_droppedReads),
            MustSync = entries.Length > 0 || snapshot is not null || termOrVoteChanged,
        };
        _receipt = new ReadyReceipt(
            entries.Length > 0 ? entries[^1].Index : 0, entries.Length > 0 ? entries[^1].Term : 0,
            snapshot?.Index ?? 0, committed.Count > 0 ? committed[^1].Index : 0,
            ready.HardState, ready.SoftState, committedOfTerm);
        _readyOutstanding = true;
        return ready;
    }

    /// <summary>
    /// Splits the outgoing messages: a leader's appends, heartbeats and snapshots acknowledge nothing on its behalf,
    /// so they may leave before this Ready is durable (the leader's own copy is counted only after
    /// <see cref="Advance"/>). Votes, responses and TimeoutNow wait for persistence. If the term or vote changed in
    /// this Ready, everything waits: no message may carry a term this node has not yet recorded durably.
    /// </summary>
    private (Message[] Early, Message[] Late) SplitMessages(bool termOrVoteChanged)
    {
        if (_messages.Count == 0) return ([], []);
        var earlyCount = 0;
        if (!termOrVoteChanged)
        {
            foreach (var m in _messages) if (IsLeaderReplication(m.Type)) earlyCount++;
        }
        if (earlyCount == 0) return ([], TakeAll(_messages));
        if (earlyCount == _messages.Count) return (TakeAll(_messages), []);
        var early = new Message[earlyCount];
        var late = new Message[_messages.Count - earlyCount];
        int e = 0, l = 0;
        foreach (var m in _messages)
        {
            if (IsLeaderReplication(m.Type)) early[e++] = m;
            else late[l++] = m;
        }
        _messages.Clear();
        return (early, late);
    }

    private static bool IsLeaderReplication(MessageType type) => type is MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot;

    private static T[] TakeAll<T>(List<T> list)
    {
        if (list.Count == 0) return [];
        var array = list.ToArray();
        list.Clear();
        return array;
    }

    /// <summary>The host persisted, sent and applied <paramref name="ready"/> (see its contract).</summary>
    public void Advance(Ready ready)
    {
        ArgumentNullException.ThrowIfNull(ready);
        if (!_readyOutstanding) throw new InvalidOperationException("Advance without GetReady.");
        _readyOutstanding = false;
        var r = _receipt;
        if (r.SnapshotIndex != 0) _log.OnSnapshotInstalled(r.SnapshotIndex);
        if (r.LastEntryIndex != 0) _log.Unstable.StableTo(r.LastEntryIndex, r.LastEntryTerm);
        if (r.LastCommittedIndex != 0) _log.AppliedTo(r.LastCommittedIndex);
        // The leader's own entries are now durable: they may complete a quorum (and commit alone in a one-voter cluster).
        if (_role == RaftRole.Leader && r.LastEntryIndex != 0 && LeaderMaybeCommit()) _broadcastPending = true;
        if (r.Hard is { } h) _prevHard = h;
        if (r.Soft is { } s) _prevSoft = s;
        if (_role == RaftRole.Leader) _uncommittedBytes = Math.Max(0, _uncommittedBytes - r.CommittedBytesOfTerm);
        CollapseConfigHistory();
    }

    private HardState CurrentHardState => new(_term, _vote, _log.Committed);
    private SoftState CurrentSoftState => new(_lead, ReportedRole);

    private RaftRole ReportedRole => _role == RaftRole.Follower && !Config.IsVoter(_id) && Config.IsLearner(_id) ? RaftRole.Learner : _role;

    /// <summary>Current state for diagnostics; progress is filled on the leader only.</summary>
    public RaftStatus Status
    {
        get
        {
            var progress = new List<PeerProgress>();
            if (_role == RaftRole.Leader)
            {
                foreach (var (id, pr) in _progress.OrderBy(p => p.Key))
                    progress.Add(new PeerProgress(id, pr.Match, pr.Next, pr.State, pr.IsLearner, pr.RecentActive, pr.Inflights.Count));
            }
            return new RaftStatus(_id, _term, _vote, ReportedRole, _lead, _log.Committed, _log.Applied,
                _log.FirstIndex, _log.LastIndex, Config, _leadTransferee, progress);
        }
    }

    private void Send(Message message) => _messages.Add(message);
}
