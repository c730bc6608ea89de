namespace HaMaster.Raft;

// Linearizable reads (thesis §6.4): ReadIndex confirmed by a heartbeat round, batched; optional leases (§6.4.1).
//
// Heartbeat rounds: every heartbeat broadcast starts a new round number; a follower echoes it. A response for
// round r proves the follower accepted us as leader after round r started. Round r is confirmed once a quorum of
// voters acknowledged some round >= r. A read request is assigned the next round to start, so the round that
// confirms it began after the request arrived. While a round is in flight new reads just wait for the next one:
// any number of reads share one round trip.
public sealed partial class RawNode
{
    private readonly record struct PendingRead(ReadOnlyMemory<byte> Context, ulong From, ulong Index, ulong Round);

    private const int RoundTickSlots = 256;
    private readonly (ulong Round, long Tick)[] _roundTicks = new (ulong, long)[RoundTickSlots];
    private readonly Queue<PendingRead> _pendingReads = new();
    private readonly List<(ReadOnlyMemory<byte> Context, ulong From)> _readsAwaitingCommit = [];
    private ulong _heartbeatRound;
    private ulong _confirmedRound;

    /// <summary>
    /// Requests a linearizable read. The answer is a <see cref="ReadState"/> in a later <see cref="Ready"/> (serve the
    /// read once the applied index reaches it), or the context appears in <see cref="Ready.DroppedReads"/> if this node
    /// cannot serve it (no leader known, leadership lost). A request forwarded by a follower whose messages are lost
    /// produces neither: the host must time reads out.
    /// </summary>
    public void ReadIndex(ReadOnlyMemory<byte> requestContext)
    {
        if (_role == RaftRole.Leader) HandleReadRequest(requestContext, _id);
        else if (_lead != 0 && _role == RaftRole.Follower)
            Send(new Message { Type = MessageType.ReadIndex, From = _id, To = _lead, Term = _term, Context = requestContext });
        else _droppedReads.Add(requestContext);
    }

    private void HandleReadRequest(ReadOnlyMemory<byte> context, ulong from)
    {
        if (_options.UnsafeReadWithoutQuorum)
        {
            AnswerRead(context, from, _log.Committed);
            return;
        }
        if (Config.Voters.Count == 1 && Config.IsVoter(_id) && _log.Term(_log.Committed) == _term)
        {
            AnswerRead(context, from, _log.Committed);
            return;
        }
        if (_log.Term(_log.Committed) != _term)
        {
            // §6.4 step 1: until an entry of our term commits we do not know the latest commit index.
            _readsAwaitingCommit.Add((context, from));
            return;
        }
        if (LeaseValid())
        {
            AnswerRead(context, from, _log.Committed);
            return;
        }
        _pendingReads.Enqueue(new PendingRead(context, from, _log.Committed, _heartbeatRound + 1));
        if (_confirmedRound == _heartbeatRound) BroadcastHeartbeat();
    }

    private void ReleaseReadsAwaitingCommit()
    {
        if (_readsAwaitingCommit.Count == 0) return;
        var waiting = _readsAwaitingCommit.ToArray();
        _readsAwaitingCommit.Clear();
        foreach (var (context, from) in waiting) HandleReadRequest(context, from);
    }

    private void AnswerRead(ReadOnlyMemory<byte> context, ulong from, ulong index)
    {
        if (from == _id) _readStates.Add(new ReadState(index, context));
        else Send(new Message { Type = MessageType.ReadIndexResponse, From = _id, To = from, Term = _term, Index = index, Context = context });
    }

    private void StartHeartbeatRound()
    {
        _heartbeatRound++;
        _roundTicks[(int)(_heartbeatRound % RoundTickSlots)] = (_heartbeatRound, _ticks);
        if (_progress.TryGetValue(_id, out var self)) self.AckedRound = _heartbeatRound;
        AdvanceReadConfirmations();
    }

    /// <summary>The highest round acknowledged by a quorum of voters (we acknowledge our own rounds).</summary>
    private ulong QuorumAckedRound()
    {
        var voters = Config.Voters;
        Span<ulong> acked = voters.Count <= 32 ? stackalloc ulong[voters.Count] : new ulong[voters.Count];
        for (var i = 0; i < voters.Count; i++)
        {
            acked[i] = voters[i] == _id ? _heartbeatRound : _progress.TryGetValue(voters[i], out var pr) ? pr.AckedRound : 0;
        }
        var r = Tracking.MajorityQuorum.CommittedIndex(acked);
        return r == ulong.MaxValue ? 0 : r;
    }

    private void AdvanceReadConfirmations()
    {
        if (_role != RaftRole.Leader) return;
        var confirmed = QuorumAckedRound();
        if (confirmed <= _confirmedRound) return;
        _confirmedRound = confirmed;
        while (_pendingReads.Count > 0 && _pendingReads.Peek().Round <= confirmed)
        {
            var read = _pendingReads.Dequeue();
            AnswerRead(read.Context, read.From, read.Index);
        }
        if (_pendingReads.Count > 0 && _confirmedRound == _heartbeatRound) BroadcastHeartbeat();
    }

    /// <summary>
    /// Lease check (§6.4.1): followers ignore vote requests for an election timeout after hearing from us (see
    /// <see cref="InLease"/>), so no other leader can exist until ElectionTicks after the start of the round a quorum
    /// acknowledged. We use the lease only up to that point minus the configured clock drift, and never while
    /// transferring leadership (the target campaigns past the lease).
    /// </summary>
    private bool LeaseValid()
    {
        if (!_options.LeaseReads || !_options.CheckQuorum || _leadTransferee != 0 || _timeoutNowSent) return false;
        var voters = Config.Voters;
        Span<ulong> starts = voters.Count <= 32 ? stackalloc ulong[voters.Count] : new ulong[voters.Count];
        for (var i = 0; i < voters.Count; i++)
        {
            long tick;
            if (voters[i] == _id) tick = _ticks;
            else if (_progress.TryGetValue(voters[i], out var pr) && pr.AckedRound != 0 && _roundTicks[(int)(pr.AckedRound % RoundTickSlots)].Round == pr.AckedRound)
                tick = _roundTicks[(int)(pr.AckedRound % RoundTickSlots)].Tick;
            else tick = -1;
            starts[i] = tick < 0 ? 0 : (ulong)tick + 1; // +1 so "never" (0) sorts below tick 0
        }
        var quorumStart = Tracking.MajorityQuorum.CommittedIndex(starts);
        if (quorumStart == 0 || quorumStart == ulong.MaxValue) return false;
        var startTick = (long)quorumStart - 1;
        return _ticks - startTick < _options.ElectionTicks - _options.MaxClockDriftTicks;
    }

    private void DropPendingReads()
    {
        foreach (var read in _pendingReads) FailRead(read.Context, read.From);
        _pendingReads.Clear();
        foreach (var (context, from) in _readsAwaitingCommit) FailRead(context, from);
        _readsAwaitingCommit.Clear();
    }

    private void FailRead(ReadOnlyMemory<byte> context, ulong from)
    {
        if (from == _id) _droppedReads.Add(context);
        else Send(new Message { Type = MessageType.ReadIndexResponse, From = _id, To = from, Term = _term, Reject = true, Context = context });
    }
}
