namespace HaMaster.Server.Raft;

/// <summary>This master is not the leader; <see cref="LeaderId"/> is the known leader or 0 (election under way).</summary>
internal sealed class NotLeaderException(ulong leaderId, string reason) : Exception(reason)
{
    public ulong LeaderId { get; } = leaderId;
}

/// <summary>A proposal was accepted but a different entry committed at its index (leadership changed):
/// it did not take effect, and the client may retry it (exactly-once sessions make that safe).</summary>
internal sealed class ProposalLostException(string message) : Exception(message);

/// <summary>A proposal's entry was covered by a snapshot from the leader before this master applied it:
/// it may or may not have taken effect. A retry with the same client session returns the first
/// answer if it did, and applies it once if it did not.</summary>
internal sealed class ProposalOutcomeUnknownException(string message) : Exception(message);

/// <summary>
/// The operation could not be done now (e.g. an in-flight membership change); the message says why, and
/// <see cref="Refusal"/> says it to code when the Raft core refused a proposal (null otherwise), so a caller
/// that retries some refusals decides on the value, not on the wording.
/// </summary>
internal sealed class ClusterPreconditionException(string message, HaMaster.Raft.ProposeStatus? refusal = null) : Exception(message)
{
    public HaMaster.Raft.ProposeStatus? Refusal { get; } = refusal;
}
