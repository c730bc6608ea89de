namespace HaMaster.Raft;

// Message dispatch: the term rules of Figure 2 ("If RPC request or response contains term T > currentTerm: set
// currentTerm = T, convert to follower"; stale terms are ignored), then role-specific handling.
public sealed partial class RawNode
{
    /// <summary>
    /// Processes a message from a peer. Messages for another node, from stale terms, duplicated or reordered are
    /// ignored or answered harmlessly; never throws for anything a network can do.
    /// </summary>
    public void Step(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var m = message;
        if (m.To != _id || m.From == _id || m.From == 0) return;

        if (m.Term > _term)
        {
            if (m.Type is MessageType.Vote or MessageType.PreVote && !m.LeaderTransfer && InLease)
            {
                return; // We heard from a live leader recently: do not let this candidate disrupt it.
            }
            if (_role == RaftRole.Follower && InLease && m.Type is MessageType.VoteResponse or MessageType.PreVoteResponse
                    or MessageType.AppendResponse or MessageType.HeartbeatResponse or MessageType.ReadIndexResponse)
            {
                // A late response to one of our own earlier requests must not make us drop the current leader: that
                // would revoke the lease we granted it (and leader leases back lease reads) without any election.
                return;
            }
            if (m.Type == MessageType.PreVote)
            {
                // Never change term for a pre-vote.
            }
            else if (m.Type == MessageType.PreVoteResponse && !m.Reject)
            {
                // A grant for the term we would campaign in: not a reason to step down.
            }
            else if (m.Type is MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot)
            {
                BecomeFollower(m.Term, m.From);
            }
            else
            {
                BecomeFollower(m.Term, 0);
            }
        }
        else if (m.Term < _term)
        {
            if ((_options.CheckQuorum || _options.PreVote) && m.Type is MessageType.Append or MessageType.Heartbeat)
            {
                // A deposed leader (e.g. after a partition) learns our term and steps down; without this, with
                // pre-vote/check-quorum it could keep pinging us forever while we ignore it.
                Send(new Message { Type = MessageType.AppendResponse, From = _id, To = m.From, Term = _term });
            }
            else if (m.Type == MessageType.PreVote)
            {
                Send(new Message { Type = MessageType.PreVoteResponse, From = _id, To = m.From, Term = _term, Reject = true });
            }
            return;
        }

        switch (m.Type)
        {
            case MessageType.PreVote or MessageType.Vote:
                HandleVoteRequest(m);
                return;
        }

        switch (_role)
        {
            case RaftRole.Leader:
                StepLeader(m);
                break;
            case RaftRole.Candidate or RaftRole.PreCandidate:
                StepCandidate(m);
                break;
            default:
                StepFollower(m);
                break;
        }
    }

    private void StepLeader(Message m)
    {
        switch (m.Type)
        {
            case MessageType.AppendResponse:
                HandleAppendResponse(m);
                break;
            case MessageType.HeartbeatResponse:
                HandleHeartbeatResponse(m);
                break;
            case MessageType.ReadIndex:
                HandleReadRequest(m.Context, m.From);
                break;
        }
    }

    private void StepCandidate(Message m)
    {
        switch (m.Type)
        {
            case MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot:
                // §5.2: a candidate that hears from a leader of its term (or, as pre-candidate, of the current term) steps down.
                BecomeFollower(m.Term, m.From);
                StepFollower(m);
                break;
            case MessageType.VoteResponse or MessageType.PreVoteResponse:
                HandleVoteResponse(m);
                break;
        }
    }

    private void StepFollower(Message m)
    {
        switch (m.Type)
        {
            case MessageType.Append:
                _electionElapsed = 0;
                _lead = m.From;
                HandleAppend(m);
                break;
            case MessageType.Heartbeat:
                _electionElapsed = 0;
                _lead = m.From;
                HandleHeartbeat(m);
                break;
            case MessageType.Snapshot:
                _electionElapsed = 0;
                _lead = m.From;
                HandleSnapshot(m);
                break;
            case MessageType.TimeoutNow:
                // §3.10: the leader chose us; campaign at once, skipping pre-vote and the receivers' lease. Only
                // the leader of this term sends it: from a leader we do not know yet (we just restarted) it counts too.
                if (Promotable && (m.From == _lead || _lead == 0)) StartCampaign(CampaignKind.Election, transfer: true);
                break;
            case MessageType.ReadIndexResponse:
                if (m.Reject) _droppedReads.Add(m.Context);
                else _readStates.Add(new ReadState(m.Index, m.Context));
                break;
        }
    }
}
