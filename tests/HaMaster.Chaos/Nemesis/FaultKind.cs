using HaMaster.Chaos.Core.Faults;

namespace HaMaster.Chaos.Nemesis;

/// <summary>The faults the nemesis injects; each is healed before the next one starts.</summary>
public enum FaultKind
{
    /// <summary>kill -9 the leader; heal: start it again on the same data.</summary>
    KillLeader,

    /// <summary>kill -9 any master; heal: start it again.</summary>
    KillRandom,

    /// <summary>SIGSTOP the leader for longer than the election timeout; heal: SIGCONT.</summary>
    PauseLeader,

    /// <summary>SIGSTOP any master; heal: SIGCONT.</summary>
    PauseRandom,

    /// <summary>Cut the leader off from every other master, both ways.</summary>
    IsolateLeader,

    /// <summary>Split the masters into a majority and a minority.</summary>
    Split,

    /// <summary>Blackhole one direction between two masters (often from the leader).</summary>
    OneWay,

    /// <summary>Add 50-300 ms latency with jitter to every link of one master.</summary>
    SlowLinks,

    /// <summary>ClusterAdmin.TransferLeadership to a random follower.</summary>
    TransferLeadership,

    /// <summary>Remove a follower (ClusterAdmin.RemoveMaster), kill it; heal: start it afresh with --join and add it back with the same id.</summary>
    RemoveAndReAdd,

    /// <summary>Kill a follower, force a snapshot on the leader while it is down (the log is compacted past it); heal: restart it, it catches up by snapshot.</summary>
    SnapshotCatchUp,
}

public static class FaultMenu
{
    /// <summary>The default weighted menu: crashes and partitions most often, membership changes least.</summary>
    public static IReadOnlyList<FaultChoice<FaultKind>> Default { get; } =
    [
        new(FaultKind.KillLeader, 2),
        new(FaultKind.KillRandom, 1.5),
        new(FaultKind.PauseLeader, 1.5),
        new(FaultKind.PauseRandom, 1),
        new(FaultKind.IsolateLeader, 1.5),
        new(FaultKind.Split, 1.5),
        new(FaultKind.OneWay, 1),
        new(FaultKind.SlowLinks, 1),
        new(FaultKind.TransferLeadership, 1),
        new(FaultKind.RemoveAndReAdd, 0.8),
        new(FaultKind.SnapshotCatchUp, 1),
    ];
}
