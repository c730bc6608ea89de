namespace HaMaster.Server.Raft;

/// <summary>
/// What the host-level simulation changes in a <see cref="RaftHost{TResult}"/>: who drives the loop, its
/// randomness, named crash points, and deliberately injected bugs that the simulation must catch.
/// Production uses <see cref="None"/>.
/// </summary>
internal sealed record RaftHostHooks
{
    public static readonly RaftHostHooks None = new();

    /// <summary>
    /// No loop thread: the caller drives <see cref="RaftHost{TResult}.RunIteration"/>, and snapshot work
    /// (checkpoint, publish, garbage collection) runs inline on that call instead of on the thread pool.
    /// </summary>
    public bool Manual { get; init; }

    /// <summary>Seed of the core's randomized election timeouts (default: from the clock and process id).</summary>
    public ulong? RandomSeed { get; init; }

    /// <summary>
    /// Called with a step's name (<see cref="CrashPoints"/>) as the host reaches it; throwing a
    /// SimulatedCrashException (the journal's fault injection) there simulates a crash at that step.
    /// </summary>
    public Action<string>? CrashPoint { get; init; }

    /// <summary>Injected bug: on restart, keep a log that reaches the snapshot's index whatever its term there (the old rule).</summary>
    public bool BugSkipLogTermCheck { get; init; }

    /// <summary>Injected bug: publish an installed snapshot before writing its cluster state, and prefer cluster.state on restart (the old order).</summary>
    public bool BugClusterStateAfterPublish { get; init; }
}

/// <summary>Names of the steps at which the simulation may crash a master.</summary>
internal static class CrashPoints
{
    public const string InstallIntentRecorded = "install.intent-recorded";
    public const string InstallLogReset = "install.log-reset";
    public const string InstallStateMachineRestored = "install.state-machine-restored";
    public const string InstallClusterStateWritten = "install.cluster-state-written";
    public const string InstallPublished = "install.published";
    public const string RecoveryStarted = "recovery.started";
    public const string EntriesAppended = "ready.entries-appended";
    public const string HardStateSaved = "ready.hard-state-saved";
    public const string EntriesFlushed = "ready.entries-flushed";
    public const string ConfigClusterStateWritten = "config.cluster-state-written";
    public const string Applied = "apply.batch-applied";
    public const string SnapshotCheckpointed = "snapshot.checkpointed";
    public const string SnapshotPublished = "snapshot.published";
    public const string SnapshotLogCompacted = "snapshot.log-compacted";

    public static readonly string[] Host =
    [
        InstallIntentRecorded, InstallLogReset, InstallStateMachineRestored, InstallClusterStateWritten, InstallPublished,
        RecoveryStarted, EntriesAppended, HardStateSaved, EntriesFlushed, ConfigClusterStateWritten, Applied,
        SnapshotCheckpointed, SnapshotPublished, SnapshotLogCompacted,
    ];
}
