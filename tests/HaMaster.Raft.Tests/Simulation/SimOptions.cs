using HaMaster.Raft;

namespace HaMaster.Raft.Tests.Simulation;

/// <summary>Knobs of one simulated run; derived deterministically from the seed unless overridden.</summary>
internal sealed record SimOptions
{
    public ulong Seed { get; init; }
    public int Voters { get; init; } = 3;
    public int Spares { get; init; } = 2;
    public int FaultSteps { get; init; } = 3000;
    /// <summary>Max ticks after healing for a leader to commit a fresh proposal everywhere.</summary>
    public int LivenessTicks { get; init; } = 600;
    public bool UnsafeSkipVoteLogCheck { get; init; }
    public bool UnsafeCommitOldTermEntries { get; init; }
    public bool UnsafeReadWithoutQuorum { get; init; }

    public static SimOptions ForSeed(ulong seed) => new() { Seed = seed, Voters = seed % 2 == 0 ? 3 : 5 };

    public string ReplayCommand =>
        $"RAFT_SIM_SEED={Seed} dotnet test tests/HaMaster.Raft.Tests --filter Simulation" +
        (UnsafeSkipVoteLogCheck || UnsafeCommitOldTermEntries || UnsafeReadWithoutQuorum ? " (with the mutation enabled)" : "");
}

/// <summary>A broken invariant, with the command that replays the run.</summary>
internal sealed class SimViolationException(string message, Exception? inner = null) : Exception(message, inner);

internal static class SimHash
{
    public static ulong Mix(ulong x)
    {
        x ^= x >> 33;
        x *= 0xFF51AFD7ED558CCDUL;
        x ^= x >> 33;
        x *= 0xC4CEB9FE1A85EC53UL;
        return x ^ (x >> 33);
    }

    /// <summary>Hash of a log prefix ending with <paramref name="e"/>: equal chains at an index mean equal prefixes.</summary>
    public static ulong Chain(ulong previous, in Entry e)
    {
        var h = Mix(previous ^ (e.Term * 0x9E3779B97F4A7C15UL) ^ ((ulong)e.Type << 56));
        foreach (var b in e.Data.Span) h = (h ^ b) * 0x100000001B3UL;
        return Mix(h ^ e.Index);
    }
}

/// <summary>Counters showing which faults and features a run exercised.</summary>
internal sealed class SimStats
{
    public int Crashes;
    public int ConfigChanges;
    public int SnapshotsInstalled;
    public int TimeoutNows;
    public int LeaderHints;

    public void Add(SimStats other)
    {
        Interlocked.Add(ref Crashes, other.Crashes);
        Interlocked.Add(ref ConfigChanges, other.ConfigChanges);
        Interlocked.Add(ref SnapshotsInstalled, other.SnapshotsInstalled);
        Interlocked.Add(ref TimeoutNows, other.TimeoutNows);
        Interlocked.Add(ref LeaderHints, other.LeaderHints);
    }

    public override string ToString() =>
        $"crashes={Crashes} configChanges={ConfigChanges} snapshotsInstalled={SnapshotsInstalled} timeoutNowDelivered={TimeoutNows} leaderHints={LeaderHints}";
}
