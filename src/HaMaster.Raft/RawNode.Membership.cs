namespace HaMaster.Raft;

// Membership changes, one server at a time (thesis §4.1-4.3), with learners.
//
// Why single-server changes are safe here:
// * Each node uses the LATEST configuration in its log, committed or not (thesis §4.1), and reverts to the previous
//   one if that entry is truncated. Adding or removing one voter means every majority of the old voter set intersects
//   every majority of the new one, so two leaders cannot be elected in one term by disjoint majorities, and an entry
//   committed under one configuration is seen by any quorum of the next.
// * Only one change is in flight: a leader refuses a new change until the previous config entry is committed, so at
//   most two adjacent configurations are in use at any time.
// * A new leader must first commit an entry of its own term before proposing a change (the fix to the single-server
//   bug described on raft-dev in 2015): otherwise two leaders of different terms could each append a different
//   uncommitted change, and configurations two steps apart could decide concurrently.
// * Learners never vote or count towards quorums; a learner is promoted only when caught up, so adding a voter does
//   not stall commits while it copies the log (thesis §4.2.1). A direct AddVoter is refused unless a caught-up,
//   recently heard-from quorum of the new voter set already exists.
// * A leader not in the latest configuration keeps replicating but no longer counts itself, and steps down once the
//   change commits (thesis §4.2.2).
public sealed partial class RawNode
{
    // Config entries present in the log, oldest first; [0] is the base (snapshot or bootstrap configuration, or the
    // latest committed change once older history is collapsed). Index 0 for the bootstrap configuration.
    private readonly List<(ulong Index, ClusterConfig Config)> _configs = [];

    /// <summary>The configuration in force: the latest one in this node's log.</summary>
    private ClusterConfig Config => _configs[^1].Config;

    private ulong LatestConfigIndex => _configs[^1].Index;

    private void LoadConfigHistory(IRaftLogStorage storage)
    {
        _configs.Clear();
        // InitialConfig is the configuration as of the snapshot, which may be newer than entries kept behind it.
        var baseIndex = Math.Max(storage.FirstIndex - 1, storage.Snapshot?.Index ?? 0);
        _configs.Add((baseIndex, storage.InitialConfig));
        var last = storage.LastIndex;
        for (var lo = storage.FirstIndex; lo <= last;)
        {
            var batch = storage.Entries(lo, last + 1, 16L << 20);
            foreach (var e in batch)
            {
                if (e.Type == EntryType.ConfigChange && e.Index > baseIndex) _configs.Add((e.Index, ConfigTransition.Decode(e.Data.Span).Result));
            }
            lo += (ulong)batch.Count;
        }
    }

    private void ResetConfigHistory(ulong index, ClusterConfig config)
    {
        _configs.Clear();
        _configs.Add((index, config));
        OnConfigChanged();
    }

    /// <summary>Called after entries[from..] were written to the log (possibly replacing a suffix).</summary>
    private void OnEntriesAppended(IReadOnlyList<Entry> entries, int from)
    {
        var first = entries[from].Index;
        var changed = false;
        while (_configs.Count > 1 && _configs[^1].Index >= first)
        {
            _configs.RemoveAt(_configs.Count - 1); // truncated: revert to the previous configuration
            changed = true;
        }
        for (var i = from; i < entries.Count; i++)
        {
            if (entries[i].Type != EntryType.ConfigChange) continue;
            _configs.Add((entries[i].Index, ConfigTransition.Decode(entries[i].Data.Span).Result));
            changed = true;
        }
        if (changed) OnConfigChanged();
    }

    private void CollapseConfigHistory()
    {
        while (_configs.Count > 1 && _configs[1].Index <= _log.Committed) _configs.RemoveAt(0);
    }

    private void OnConfigChanged()
    {
        if (_role != RaftRole.Leader) return;
        var config = Config;
        foreach (var (id, pr) in _progress.ToList())
        {
            if (config.Contains(id)) continue;
            if (id != _id && (pr.DepartAt != 0 || pr.Match < LatestConfigIndex))
            {
                // Removed, but it would never receive the entry that removed it (we stop replicating to
                // non-members), so it would go on pre-voting and calling itself a voter: send it the log up
                // to that entry first, as a learner that counts in no quorum (see HandleAppendResponse).
                pr.IsLearner = true;
                if (pr.DepartAt == 0) pr.DepartAt = LatestConfigIndex;
                continue;
            }

            _progress.Remove(id);
        }
        foreach (var member in config.Members)
        {
            if (_progress.TryGetValue(member, out var pr))
            {
                pr.IsLearner = config.IsLearner(member);
                pr.DepartAt = 0;
            }
            else
            {
                pr = NewProgress(member);
                if (member == _id) pr.Match = _log.LastIndex;
                _progress[member] = pr;
            }
        }
        if (_leadTransferee != 0 && !config.IsVoter(_leadTransferee)) AbortLeaderTransfer();
        _broadcastPending = true;
    }

    /// <summary>
    /// Proposes a single-server membership change. Refused (as a value, with a reason) if this node is not the leader,
    /// a change is in flight, the leader has not committed an entry of its term yet, or the change would leave the
    /// new voter set without a caught-up, recently active quorum.
    /// </summary>
    public ProposeResult ProposeConfigChange(ConfigChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (CheckCanPropose() is { } refusal) return refusal;
        ProposeResult Refuse(ProposeStatus status) => new(status, 0, 0, _lead);
        if (_log.Term(_log.Committed) != _term) return Refuse(ProposeStatus.LeaderNotReady);
        if (LatestConfigIndex > _log.Committed) return Refuse(ProposeStatus.ConfigChangeInFlight);
        var config = Config;
        var id = change.NodeId;
        if (id == 0) return Refuse(ProposeStatus.UnknownMember);
        switch (change.Kind)
        {
            case ConfigChangeKind.AddVoter when config.IsVoter(id):
            case ConfigChangeKind.AddLearner when config.Contains(id):
                return Refuse(ProposeStatus.AlreadyMember);
            case ConfigChangeKind.PromoteLearner when !config.IsLearner(id):
            case ConfigChangeKind.RemoveNode when !config.Contains(id):
                return Refuse(ProposeStatus.UnknownMember);
            case ConfigChangeKind.PromoteLearner when !IsCaughtUp(id):
                return Refuse(ProposeStatus.LearnerNotCaughtUp);
        }
        var next = config.Apply(change);
        if (next.Voters.Count == 0) return Refuse(ProposeStatus.WouldLoseQuorum);
        var healthy = 0;
        foreach (var v in next.Voters)
        {
            if (v == _id || IsCaughtUp(v)) healthy++;
        }
        if (healthy < next.Quorum) return Refuse(ProposeStatus.WouldLoseQuorum);
        var entry = AppendAsLeader(EntryType.ConfigChange, new ConfigTransition(change, next).Encode());
        return new ProposeResult(ProposeStatus.Accepted, entry.Index, entry.Term, _id);
    }

    private bool IsCaughtUp(ulong id) =>
        _progress.TryGetValue(id, out var pr)
        && _ticks - pr.LastHeardTick <= _options.ElectionTicks
        && pr.Match + _options.PromotionMaxLagEntries >= _log.LastIndex;
}
