using HaMaster.Raft.Tracking;

namespace HaMaster.Raft;

// Log replication (§5.3), commitment (§5.4.2, Figure 8), flow control and snapshots (§7).
public sealed partial class RawNode
{
    private readonly Dictionary<ulong, Progress> _progress = [];
    private long _uncommittedBytes;
    // Proposals only mark this; appends go out once per Ready so many proposals share one message (batching).
    private bool _broadcastPending;

    private void ResetProgress()
    {
        _progress.Clear();
        var last = _log.LastIndex;
        foreach (var member in Config.Members)
        {
            var pr = NewProgress(member);
            if (member == _id) pr.Match = last;
            _progress[member] = pr;
        }
    }

    private Progress NewProgress(ulong member) =>
        new(0, _log.LastIndex + 1, Config.IsLearner(member), _options.MaxInflightMessages, _options.MaxInflightBytes)
        {
            RecentActive = member == _id,
        };

    private Entry AppendAsLeader(EntryType type, ReadOnlyMemory<byte> data)
    {
        var entry = new Entry(_log.LastIndex + 1, _term, type, data);
        _log.AppendOne(entry);
        _uncommittedBytes += entry.PayloadSize;
        if (type == EntryType.ConfigChange) OnEntriesAppended([entry], 0);
        if (_progress.TryGetValue(_id, out var self)) self.MaybeUpdate(entry.Index);
        _broadcastPending = true;
        // The leader's own copy counts toward commitment only once the host has made it durable
        // (Advance): a single-voter cluster commits there, not here.
        return entry;
    }

    private void FlushBroadcast()
    {
        if (!_broadcastPending) return;
        _broadcastPending = false;
        if (_role != RaftRole.Leader) return;
        foreach (var id in _progress.Keys)
        {
            if (id != _id) SendAppend(id, sendIfEmpty: true);
        }
    }

    /// <summary>
    /// Sends the entries from the follower's next index (or a snapshot if they were compacted away). Returns false if
    /// nothing was sent (paused by flow control, or nothing new and <paramref name="sendIfEmpty"/> is false).
    /// </summary>
    private bool SendAppend(ulong to, bool sendIfEmpty)
    {
        if (!_progress.TryGetValue(to, out var pr) || pr.IsPaused) return false;
        if (pr.Next < _log.FirstIndex || !_log.TryTerm(pr.Next - 1, out var prevTerm)) return SendSnapshot(to, pr);
        var last = _log.LastIndex;
        var entries = pr.Next <= last ? _log.Slice(pr.Next, last + 1, _options.MaxSizePerMessage) : [];
        if (entries.Count == 0 && !sendIfEmpty) return false;
        long bytes = 0;
        for (var i = 0; i < entries.Count; i++) bytes += entries[i].PayloadSize;
        Send(new Message
        {
            Type = MessageType.Append, From = _id, To = to, Term = _term,
            Index = pr.Next - 1, LogTerm = prevTerm, Entries = entries, Commit = _log.Committed,
        });
        pr.OnEntriesSent(entries.Count, entries.Count > 0 ? entries[^1].Index : 0, bytes);
        return true;
    }

    private bool SendSnapshot(ulong to, Progress pr)
    {
        var snapshot = _log.Snapshot;
        if (snapshot is null) return false;
        pr.BecomeSnapshot(snapshot.Index);
        Send(new Message { Type = MessageType.Snapshot, From = _id, To = to, Term = _term, Snapshot = snapshot });
        return true;
    }

    private void BroadcastHeartbeat()
    {
        StartHeartbeatRound();
        foreach (var (id, pr) in _progress)
        {
            if (id == _id) continue;
            // Never tell a follower to commit beyond what it is known to hold: its log may still diverge there.
            Send(new Message
            {
                Type = MessageType.Heartbeat, From = _id, To = id, Term = _term,
                Commit = Math.Min(pr.Match, _log.Committed), Round = _heartbeatRound,
            });
        }
    }

    private void HandleAppendResponse(Message m)
    {
        if (!_progress.TryGetValue(m.From, out var pr)) return;
        pr.RecentActive = true;
        pr.LastHeardTick = _ticks;
        if (m.Reject)
        {
            // Fast back-off: the follower told us its last index whose term is <= the probed term. Jump our probe to
            // the last of our entries that could possibly match (skipping whole conflicting terms per round trip).
            var nextProbe = m.RejectHint;
            if (m.LogTerm > 0) nextProbe = _log.FindConflictByTerm(m.RejectHint, m.LogTerm).Index;
            if (pr.MaybeDecrTo(m.Index, nextProbe))
            {
                if (pr.State == ProgressState.Replicate) pr.BecomeProbe();
                SendAppend(m.From, sendIfEmpty: true);
            }
            return;
        }
        var wasPaused = pr.IsPaused;
        if (!pr.MaybeUpdate(m.Index)) return;
        if (pr.DepartAt != 0 && pr.Match >= pr.DepartAt)
        {
            _progress.Remove(m.From); // a removed member now holds its removal: done with it
            return;
        }
        switch (pr.State)
        {
            case ProgressState.Probe:
                pr.BecomeReplicate();
                break;
            case ProgressState.Snapshot when pr.Match + 1 >= _log.FirstIndex:
                // The follower caught up to our log (via the snapshot or otherwise): resume appends.
                pr.BecomeProbe();
                pr.BecomeReplicate();
                break;
            case ProgressState.Replicate:
                pr.Inflights.FreeLE(m.Index);
                break;
        }
        if (LeaderMaybeCommit())
        {
            _broadcastPending = true; // Tell everyone the new commit index.
        }
        else if (wasPaused)
        {
            SendAppend(m.From, sendIfEmpty: false);
        }
        if (_role != RaftRole.Leader) return; // stepped down (removed from the configuration)
        // Optimistic pipelining: keep sending while the window allows.
        for (var i = 0; i < _options.MaxInflightMessages && SendAppend(m.From, sendIfEmpty: false); i++)
        {
        }
        if (m.From == _leadTransferee && pr.Match == _log.LastIndex) SendTimeoutNow(m.From);
    }

    private void HandleHeartbeatResponse(Message m)
    {
        if (!_progress.TryGetValue(m.From, out var pr)) return;
        pr.RecentActive = true;
        pr.LastHeardTick = _ticks;
        pr.ProbeSent = false;
        // The follower is alive: if the window is full an append was probably lost; free one slot to make progress.
        if (pr.State == ProgressState.Replicate && pr.Inflights.Full) pr.Inflights.FreeFirstOne();
        if (pr.Match < _log.LastIndex) SendAppend(m.From, sendIfEmpty: true);
        // A transfer target that dropped our TimeoutNow (it had just restarted and did not know us as
        // leader yet) gets it again once it answers a heartbeat: it knows us now.
        else if (m.From == _leadTransferee) SendTimeoutNow(m.From);
        if (m.Round > pr.AckedRound)
        {
            pr.AckedRound = m.Round;
            AdvanceReadConfirmations();
        }
    }

    /// <summary>
    /// Last index of this node's own log that the host has made durable. The leader sends its appends before
    /// persisting them (thesis §10.2.1, <see cref="Ready.MessagesBeforePersist"/>), so entries still unstable (not yet
    /// acknowledged by <see cref="Advance"/>) must not count toward a quorum: a leader that crashes before its fsync
    /// would otherwise have counted a copy that no longer exists.
    /// </summary>
    private ulong DurableLastIndex => _log.Unstable.Entries.Count > 0 ? _log.Unstable.Offset - 1 : _log.LastIndex;

    /// <summary>Advances the commit index to the highest index stored on a majority of voters, if it is of the current
    /// term (Figure 8: older-term entries commit only indirectly). Runs post-commit duties. True if it advanced.</summary>
    private bool LeaderMaybeCommit()
    {
        var voters = Config.Voters;
        Span<ulong> matches = voters.Count <= 32 ? stackalloc ulong[voters.Count] : new ulong[voters.Count];
        for (var i = 0; i < voters.Count; i++)
        {
            matches[i] = voters[i] == _id ? DurableLastIndex : _progress.TryGetValue(voters[i], out var pr) ? pr.Match : 0;
        }
        var index = MajorityQuorum.CommittedIndex(matches);
        if (index == ulong.MaxValue) return false;
        bool advanced;
        if (_options.UnsafeCommitOldTermEntries)
        {
            advanced = index > _log.Committed && index <= _log.LastIndex;
            if (advanced) _log.CommitTo(index);
        }
        else
        {
            advanced = _log.MaybeCommit(index, _term);
        }
        if (advanced) OnLeaderCommitted();
        return advanced;
    }

    private void OnLeaderCommitted()
    {
        if (_log.Term(_log.Committed) == _term) ReleaseReadsAwaitingCommit();
        // Thesis §4.2.2: a leader removed from the configuration steps down once the change is committed, first
        // handing leadership to the most up-to-date voter so the cluster does not wait for an election timeout.
        if (!Config.IsVoter(_id) && LatestConfigIndex <= _log.Committed)
        {
            ulong best = 0;
            ulong bestMatch = 0;
            foreach (var v in Config.Voters)
            {
                if (_progress.TryGetValue(v, out var pr) && pr.Match >= bestMatch) { best = v; bestMatch = pr.Match; }
            }
            if (best != 0 && bestMatch == _log.LastIndex)
            {
                // Make sure the successor also learns the commit index, then let it campaign.
                SendAppend(best, sendIfEmpty: true);
                SendTimeoutNow(best);
            }
            BecomeFollower(_term, 0);
        }
    }

    private void HandleAppend(Message m)
    {
        if (m.Index < _log.Committed)
        {
            // Everything up to our commit index is known to match; tell the leader so it can skip ahead.
            Send(new Message { Type = MessageType.AppendResponse, From = _id, To = m.From, Term = _term, Index = _log.Committed });
            return;
        }
        if (_log.MaybeAppend(m.Index, m.LogTerm, m.Commit, m.Entries, out var lastNew, out var appendedFrom))
        {
            if (appendedFrom >= 0) OnEntriesAppended(m.Entries, appendedFrom);
            Send(new Message { Type = MessageType.AppendResponse, From = _id, To = m.From, Term = _term, Index = lastNew });
            return;
        }
        // §5.3 consistency check failed: hint where our log could match.
        var (hintIndex, hintTerm) = _log.FindConflictByTerm(Math.Min(m.Index, _log.LastIndex), m.LogTerm);
        Send(new Message
        {
            Type = MessageType.AppendResponse, From = _id, To = m.From, Term = _term,
            Index = m.Index, Reject = true, RejectHint = hintIndex, LogTerm = hintTerm,
        });
    }

    private void HandleHeartbeat(Message m)
    {
        _log.CommitTo(Math.Min(m.Commit, _log.LastIndex));
        Send(new Message { Type = MessageType.HeartbeatResponse, From = _id, To = m.From, Term = _term, Round = m.Round });
    }

    private void HandleSnapshot(Message m)
    {
        var s = m.Snapshot;
        if (s is null) return;
        if (s.Index <= _log.Committed)
        {
            Send(new Message { Type = MessageType.AppendResponse, From = _id, To = m.From, Term = _term, Index = _log.Committed });
            return;
        }
        if (_log.MatchTerm(s.Index, s.Term))
        {
            // We already hold the snapshot's last entry: the snapshot only tells us that much is committed. Entries
            // after it may still conflict with the leader's, so acknowledge only the commit index, not our last index.
            _log.CommitTo(s.Index);
            Send(new Message { Type = MessageType.AppendResponse, From = _id, To = m.From, Term = _term, Index = _log.Committed });
            return;
        }
        _log.Restore(s);
        ResetConfigHistory(s.Index, s.Config);
        Send(new Message { Type = MessageType.AppendResponse, From = _id, To = m.From, Term = _term, Index = _log.LastIndex });
    }
}
