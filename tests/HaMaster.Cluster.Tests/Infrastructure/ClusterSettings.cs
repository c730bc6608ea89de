using System.Globalization;

namespace HaMaster.Cluster.Tests.Infrastructure;

/// <summary>
/// How a <see cref="TestCluster"/> runs its masters. Defaults favour speed on a busy 2-core
/// machine: a 50 ms Raft tick with 16-tick election timeouts (0.8–1.6 s) fails over quickly
/// yet rarely flaps while other builds run.
/// </summary>
public sealed record ClusterSettings
{
    /// <summary>Number of voting masters bootstrapped (default 3).</summary>
    public int Size { get; init; } = 3;

    /// <summary>Raft tick in milliseconds (default 50).</summary>
    public int TickMs { get; init; } = 50;

    /// <summary>Election timeout in ticks (default 16).</summary>
    public int ElectionTicks { get; init; } = 16;

    /// <summary>Entries between automatic snapshots; null = the server's default.</summary>
    public long? SnapshotEvery { get; init; }

    /// <summary>Log entries kept behind a snapshot; null = the server's default.</summary>
    public long? LogKeep { get; init; }

    /// <summary>Bound of every wait for a process to print READY or for a leader (default 60 s: a restart on a loaded 2-core machine took over 30 s).</summary>
    public TimeSpan WaitTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public ClusterSettings Validate()
    {
        if (Size is < 1 or > 7) throw new ArgumentOutOfRangeException(nameof(Size), Size, "1..7 masters");
        if (TickMs < 1) throw new ArgumentOutOfRangeException(nameof(TickMs), TickMs, "must be positive");
        if (ElectionTicks < 2) throw new ArgumentOutOfRangeException(nameof(ElectionTicks), ElectionTicks, "must be at least 2");
        if (WaitTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(WaitTimeout), WaitTimeout, "must be positive");
        return this;
    }

    /// <summary>Flags shared by every master (timing and snapshots).</summary>
    internal IReadOnlyList<string> CommonArguments()
    {
        var args = new List<string>
        {
            "--tick-ms", TickMs.ToString(CultureInfo.InvariantCulture),
            "--election-ticks", ElectionTicks.ToString(CultureInfo.InvariantCulture),
        };
        if (SnapshotEvery is { } every) args.AddRange(["--snapshot-every", every.ToString(CultureInfo.InvariantCulture)]);
        if (LogKeep is { } keep) args.AddRange(["--log-keep", keep.ToString(CultureInfo.InvariantCulture)]);
        return args;
    }
}
