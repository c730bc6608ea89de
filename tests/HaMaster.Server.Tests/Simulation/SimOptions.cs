namespace HaMaster.Server.Tests.Simulation;

/// <summary>Shape of one host-simulation run; everything random in it derives from <see cref="Seed"/>.</summary>
internal sealed record SimOptions
{
    public int Seed { get; init; }

    /// <summary>Masters in the simulation; the first <see cref="InitialVoters"/> bootstrap the cluster, the rest join through membership changes.</summary>
    public int Nodes { get; init; } = 4;

    public int InitialVoters { get; init; } = 3;

    /// <summary>Steps of chaos (faults, proposals, membership changes), then <see cref="QuietSteps"/> with every fault healed.</summary>
    public int Steps { get; init; } = 1200;

    public int QuietSteps { get; init; } = 400;

    /// <summary>Every master's clock ticks once per this many steps.</summary>
    public int StepsPerTick { get; init; } = 3;

    /// <summary>Chance that the network loses a message (and, a tenth of it, that it duplicates one).</summary>
    public double MessageLoss { get; init; } = 0.02;

    public long SnapshotEveryEntries { get; init; } = 24;

    public long LogEntriesKeptBehindSnapshot { get; init; } = 4;

    public bool BugSkipLogTermCheck { get; init; }

    public bool BugClusterStateAfterPublish { get; init; }

    /// <summary>Chance of crashing at a reached crash point, by its name (others: <see cref="DefaultCrashChance"/>).</summary>
    public IReadOnlyDictionary<string, double> CrashChance { get; init; } = new Dictionary<string, double>
    {
        [HaMaster.Server.Raft.CrashPoints.InstallIntentRecorded] = 0.25,
        [HaMaster.Server.Raft.CrashPoints.InstallLogReset] = 0.25,
        [HaMaster.Server.Raft.CrashPoints.InstallStateMachineRestored] = 0.25,
        [HaMaster.Server.Raft.CrashPoints.InstallClusterStateWritten] = 0.25,
        [HaMaster.Server.Raft.CrashPoints.InstallPublished] = 0.25,
        [HaMaster.Server.Raft.CrashPoints.RecoveryStarted] = 0.05,
        [HaMaster.Server.Raft.CrashPoints.ConfigClusterStateWritten] = 0.2,
        [HaMaster.Server.Raft.CrashPoints.SnapshotCheckpointed] = 0.05,
        [HaMaster.Server.Raft.CrashPoints.SnapshotPublished] = 0.05,
        [HaMaster.Server.Raft.CrashPoints.SnapshotLogCompacted] = 0.05,
        [SimHostCluster.ReceiveChunk] = 0.1,
        [SimHostCluster.ReceiveStaged] = 0.15,
    };

    public double DefaultCrashChance { get; init; } = 0.003;
}
