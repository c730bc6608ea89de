using HaMaster.Raft;

namespace HaMaster.Server.Raft;

/// <summary>
/// What the Raft loop needs from the replicated state machine. All members but
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
    /// Applies committed entries in order (skipping any at or below <see cref="AppliedIndex"/>)
    /// and adds, for each applied entry that has a result for a waiting proposer, its
    /// (index, term, result) to <paramref name="results"/>.
    /// </summary>
    void Apply(IReadOnlyList<Entry> entries, List<AppliedResult> results);

    /// <summary>
    /// Writes a checkpoint of the state into <paramref name="directory"/>, which must not exist yet, and
    /// returns the applied index and term it holds. Called on a pool thread while the loop keeps applying.
    /// </summary>
    (ulong Index, ulong Term) CreateSnapshot(string directory);

    /// <summary>Replaces the whole state with the snapshot in <paramref name="directory"/> (atomic).</summary>
    void RestoreSnapshot(string directory);
}

/// <summary>The outcome of applying one committed entry, handed to the proposer waiting for it.</summary>
internal readonly record struct AppliedResult(ulong Index, ulong Term, object? Result);
