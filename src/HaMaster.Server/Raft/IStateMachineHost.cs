using HaMaster.Raft;

namespace HaMaster.Server.Raft;

/// <summary>
/// What the Raft loop needs from the replicated state machine, whatever its results. All members but
/// <see cref="CreateSnapshot"/> are called only from the Raft loop thread; reads by RPC handlers go
/// to the state machine directly.
/// </summary>
internal interface IStateMachineHost
{
    /// <summary>Index of the last entry whose effects are durable in the state machine.</summary>
    ulong AppliedIndex { get; }

    /// <summary>Term of <see cref="AppliedIndex"/>.</summary>
    ulong AppliedTerm { get; }

    /// <summary>
    /// Writes a checkpoint of the state into <paramref name="directory"/>, which must not exist yet, and
    /// returns the applied index and term it holds. Called on a pool thread while the loop keeps applying.
    /// </summary>
    (ulong Index, ulong Term) CreateSnapshot(string directory);

    /// <summary>Replaces the whole state with the snapshot in <paramref name="directory"/> (atomic).</summary>
    void RestoreSnapshot(string directory);
}

/// <summary>A replicated state machine whose applied entries answer their proposers with a <typeparamref name="TResult"/>.</summary>
internal interface IStateMachineHost<TResult> : IStateMachineHost
{
    /// <summary>
    /// Applies committed entries in order (skipping any at or below <see cref="IStateMachineHost.AppliedIndex"/>)
    /// and adds, for each applied entry that answers a waiting proposer, its (index, term, result) to
    /// <paramref name="results"/>; an entry without a value of its own (a no-op, a membership entry)
    /// answers with default.
    /// </summary>
    void Apply(IReadOnlyList<Entry> entries, List<AppliedResult<TResult>> results);
}

/// <summary>The outcome of applying one committed entry, handed to the proposer waiting for it.</summary>
internal readonly record struct AppliedResult<TResult>(ulong Index, ulong Term, TResult? Result);
