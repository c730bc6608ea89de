namespace HaMaster.Raft;

// Leadership transfer (thesis §3.10): stop taking proposals, bring the target up to date, send TimeoutNow;
// abandon after an election timeout.
public sealed partial class RawNode
{
    private ulong _leadTransferee;

    /// <summary>
    /// Asks this leader to hand leadership to voter <paramref name="target"/>. Proposals are refused with
    /// <see cref="ProposeStatus.TransferInProgress"/> until the transfer completes or is abandoned after an election timeout.
    /// Ignored on a non-leader, for self, or for a non-voter.
    /// </summary>
    public void TransferLeadership(ulong target)
    {
        if (_role != RaftRole.Leader || target == _id || !Config.IsVoter(target) || !_progress.TryGetValue(target, out var pr)) return;
        if (_leadTransferee == target) return;
        _leadTransferee = target;
        _electionElapsed = 0; // the transfer must finish within one election timeout
        if (pr.Match == _log.LastIndex) SendTimeoutNow(target);
        else SendAppend(target, sendIfEmpty: true);
    }

    // Once a TimeoutNow is out, the target may win an election that bypasses followers' leases at any time (even after
    // the transfer is abandoned, if the message was delayed): this leader must not serve lease reads for the rest of its term.
    private bool _timeoutNowSent;

    private void SendTimeoutNow(ulong to)
    {
        _timeoutNowSent = true;
        Send(new Message { Type = MessageType.TimeoutNow, From = _id, To = to, Term = _term });
    }

    private void AbortLeaderTransfer() => _leadTransferee = 0;
}
