using HaMaster.Raft.Tracking;

namespace HaMaster.Raft;

// Roles, timers and elections: Figure 2 "Rules for Servers", §5.2, pre-vote (thesis §9.6), check-quorum (§6.2).
public sealed partial class RawNode
{
    private enum CampaignKind { PreElection, Election }

    private readonly Dictionary<ulong, bool> _votes = [];

    /// <summary>May this node campaign? Only voters of the latest configuration in its log (thesis §4.1).</summary>
    private bool Promotable => Config.IsVoter(_id);

    private void TickElection()
    {
        _electionElapsed++;
        if (Promotable && _electionElapsed >= _randomizedElectionTimeout)
        {
            _electionElapsed = 0;
            StartCampaign(_options.PreVote ? CampaignKind.PreElection : CampaignKind.Election, transfer: false);
        }
    }

    private void TickLeader()
    {
        _heartbeatElapsed++;
        _electionElapsed++;
        if (_electionElapsed >= _options.ElectionTicks)
        {
            _electionElapsed = 0;
            if (_options.CheckQuorum && !QuorumRecentlyActive())
            {
                // Check-quorum: we cannot prove we are still the leader; step down so a client can find the real one.
                BecomeFollower(_term, 0);
                return;
            }
            // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
            if (_leadTransferee != 0) AbortLeaderTransfer();
        }
        if (_heartbeatElapsed >= _options.HeartbeatTicks)
        {
            _heartbeatElapsed = 0;
            BroadcastHeartbeat();
        }
    }

    /// <summary>
    /// Ticks since this follower last heard from its leader (0 when it follows no one or is not a follower). The
    /// host uses it to decide when to look for out-of-band evidence that the leader is gone.
    /// </summary>
    public int LeaderSilenceTicks => _role == RaftRole.Follower && _lead != 0 ? _electionElapsed : 0;

    /// <summary>
    /// The host has strong out-of-band evidence that <paramref name="leader"/> is gone (for example, its peer port
    /// refuses connections: no process listens there). The follower forgets it, which ends the lease it granted, so it
    /// grants pre-votes at once, and campaigns after <c>1 + rank</c> ticks, where rank orders the remaining voters by
    /// id: two followers that noticed together do not split the vote, and the second one still campaigns if the first
    /// cannot win (its log is behind). Safety does not depend on the hint: a candidate still needs a majority of
    /// pre-votes and votes, and a wrong hint costs at most one election, like a lost heartbeat. Stale hints (no longer
    /// a follower of <paramref name="leader"/>) are ignored. Returns whether the leader was forgotten.
    /// </summary>
    public bool ForgetLeader(ulong leader)
    {
        if (_role != RaftRole.Follower || leader == 0 || _lead != leader) return false;
        // With lease reads, forgetting the leader would end the lease we granted it (we would vote for
        // another candidate at once) while it still serves reads from that lease: a refused connection
        // does not prove its process is gone. etcd-raft ignores the hint in this mode for the same reason.
        if (_options.LeaseReads) return false;
        _lead = 0;
        if (!Promotable) return true;
        var rank = 0;
        foreach (var v in Config.Voters)
        {
            if (v != leader && v < _id) rank++;
        }
        _electionElapsed = Math.Max(_electionElapsed, _randomizedElectionTimeout - 1 - rank);
        return true;
    }

    private bool QuorumRecentlyActive()
    {
        var voters = Config.Voters;
        var active = 0;
        foreach (var v in voters)
        {
            if (v == _id) { active++; continue; }
            if (_progress.TryGetValue(v, out var pr) && pr.RecentActive) active++;
        }
        foreach (var (id, pr) in _progress.ToList())
        {
            if (pr.DepartAt != 0 && !pr.RecentActive) _progress.Remove(id); // a removed member that went silent: give up on it
            pr.RecentActive = false;
        }
        if (_progress.TryGetValue(_id, out var self)) self.RecentActive = true;
        return active >= Config.Quorum;
    }

    /// <summary>
    /// Resets volatile state for a new term/role. Drops pending reads: they were served by the old role and the host
    /// must retry them (local ones appear in <see cref="Ready.DroppedReads"/>, forwarded ones get a rejecting response).
    /// </summary>
    private void Reset(ulong term)
    {
        if (term != _term)
        {
            _term = term;
            _vote = 0;
        }
        _lead = 0;
        _electionElapsed = 0;
        _heartbeatElapsed = 0;
        _randomizedElectionTimeout = _options.ElectionTicks + _rng.Next(_options.ElectionTicks);
        _votes.Clear();
        _leadTransferee = 0;
        _uncommittedBytes = 0;
        DropPendingReads();
    }

    private void BecomeFollower(ulong term, ulong lead)
    {
        Reset(term);
        _role = RaftRole.Follower;
        _lead = lead;
        _progress.Clear();
    }

    private void BecomePreCandidate()
    {
        // Pre-vote changes neither term nor vote (§9.6): a node that cannot win leaves no trace.
        DropPendingReads();
        _votes.Clear();
        _role = RaftRole.PreCandidate;
        _lead = 0;
        _progress.Clear();
    }

    private void BecomeCandidate()
    {
        Reset(_term + 1);
        _vote = _id;
        _role = RaftRole.Candidate;
        _progress.Clear();
    }

    private void BecomeLeader()
    {
        Reset(_term);
        _lead = _id;
        _role = RaftRole.Leader;
        ResetProgress();
        _heartbeatRound = 0;
        _confirmedRound = 0;
        _timeoutNowSent = false;
        // §5.4.2 / §6.4: a no-op of our term lets us commit (and know) everything committed by earlier leaders.
        AppendAsLeader(EntryType.Normal, ReadOnlyMemory<byte>.Empty);
    }

    private void StartCampaign(CampaignKind kind, bool transfer)
    {
        if (!Promotable) return;
        MessageType type;
        ulong term;
        if (kind == CampaignKind.PreElection)
        {
            BecomePreCandidate();
            type = MessageType.PreVote;
            term = _term + 1;
        }
        else
        {
            BecomeCandidate();
            type = MessageType.Vote;
            term = _term;
        }
        if (RecordVote(_id, granted: true) == VoteResult.Won)
        {
            // Single-voter cluster.
            if (kind == CampaignKind.PreElection) StartCampaign(CampaignKind.Election, transfer);
            else BecomeLeader();
            return;
        }
        var lastIndex = _log.LastIndex;
        var lastTerm = _log.LastTerm;
        foreach (var voter in Config.Voters)
        {
            if (voter == _id) continue;
            Send(new Message { Type = type, From = _id, To = voter, Term = term, Index = lastIndex, LogTerm = lastTerm, LeaderTransfer = transfer });
        }
    }

    private VoteResult RecordVote(ulong from, bool granted)
    {
        _votes.TryAdd(from, granted);
        int yes = 0, no = 0;
        foreach (var voter in Config.Voters)
        {
            if (!_votes.TryGetValue(voter, out var v)) continue;
            if (v) yes++;
            else no++;
        }
        return MajorityQuorum.Tally(Config.Voters.Count, yes, no);
    }

    /// <summary>
    /// Leader lease on the follower side (thesis §4.2.3 / §6.4.1): while we hear from a leader, ignore vote requests so a
    /// removed or partitioned server cannot depose it; a freshly started node with lease reads enabled waits one
    /// election timeout because it forgot whom it heard from before the crash.
    /// </summary>
    private bool InLease =>
        (_options.CheckQuorum && _lead != 0 && _electionElapsed < _options.ElectionTicks)
        || (_options.LeaseReads && _ticksSinceStart < _options.ElectionTicks);

    private void HandleVoteRequest(Message m)
    {
        // Figure 2 RequestVote receiver: grant if we have not voted for someone else this term (pre-votes: if the
        // proposed term is higher) and the candidate's log is at least as up-to-date as ours (§5.4.1).
        var isPre = m.Type == MessageType.PreVote;
        var canVote = _vote == m.From || (_vote == 0 && _lead == 0) || (isPre && m.Term > _term);
        if (canVote && isPre && _role == RaftRole.PreCandidate && !PreferredCandidate(m))
        {
            // We yield to nobody here, but the sender now campaigns, so it is out of its lease and grants us what it
            // may have ignored before (our pre-vote reached it while it still heard the leader): ask it again.
            canVote = false;
            Send(new Message { Type = MessageType.PreVote, From = _id, To = m.From, Term = _term + 1, Index = _log.LastIndex, LogTerm = _log.LastTerm });
        }
        var responseType = isPre ? MessageType.PreVoteResponse : MessageType.VoteResponse;
        if (canVote && (_log.IsUpToDate(m.Index, m.LogTerm) || _options.UnsafeSkipVoteLogCheck))
        {
            // A pre-vote grant carries the candidate's future term so it is not taken as stale.
            Send(new Message { Type = responseType, From = _id, To = m.From, Term = m.Term });
            if (!isPre)
            {
                _electionElapsed = 0;
                _vote = m.From;
            }
        }
        else
        {
            Send(new Message { Type = responseType, From = _id, To = m.From, Term = _term, Reject = true });
        }
    }

    /// <summary>
    /// Whether this pre-candidate yields to another pre-candidate: its log is more up to date, or as up to date and its
    /// id lower. Two followers that time out together (a stall they shared, then the ticks they missed) would otherwise
    /// grant each other's pre-votes, both become candidates, split the vote and cost another randomized timeout (issue
    /// 19: seen on a loaded machine). With this exactly one of them proceeds; the other grants its real vote. Refusing
    /// a pre-vote never affects safety, and the order is total, so one of any two always yields.
    /// </summary>
    private bool PreferredCandidate(Message m)
    {
        var lastTerm = _log.LastTerm;
        var lastIndex = _log.LastIndex;
        if (m.LogTerm != lastTerm) return m.LogTerm > lastTerm;
        if (m.Index != lastIndex) return m.Index > lastIndex;
        return m.From < _id;
    }

    private void HandleVoteResponse(Message m)
    {
        var expected = _role == RaftRole.PreCandidate ? MessageType.PreVoteResponse : MessageType.VoteResponse;
        if (m.Type != expected) return;
        switch (RecordVote(m.From, !m.Reject))
        {
            case VoteResult.Won:
                if (_role == RaftRole.PreCandidate) StartCampaign(CampaignKind.Election, transfer: false);
                else BecomeLeader();
                break;
            case VoteResult.Lost:
                BecomeFollower(_term, 0);
                break;
        }
    }
}
