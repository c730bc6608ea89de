using System.Globalization;
using System.Net.Security;

namespace HaMaster.Testing;

/// <summary>
/// How a <see cref="TestCluster"/> runs its masters and talks to them. Defaults favour speed on
/// a busy 2-core machine: a 50 ms Raft tick with 16-tick election timeouts (0.8–1.6 s) fails
/// over quickly yet rarely flaps while other builds run.
/// </summary>
public sealed record ClusterSettings
{
    /// <summary>Number of voting masters bootstrapped (default 3).</summary>
    public int Size { get; init; } = 3;

    /// <summary>Raft tick in milliseconds (default 50); null = the server's default timing.</summary>
    public int? TickMs { get; init; } = 50;

    /// <summary>Election timeout in ticks (default 16); null = the server's default.</summary>
    public int? ElectionTicks { get; init; } = 16;

    /// <summary>Entries between automatic snapshots; null = the server's default.</summary>
    public long? SnapshotEvery { get; init; }

    /// <summary>Log entries kept behind a snapshot; null = the server's default.</summary>
    public long? LogKeep { get; init; }

    /// <summary>Bound of every wait for a process to print READY or for a leader (default 60 s: a restart on a loaded 2-core machine took over 30 s).</summary>
    public TimeSpan WaitTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Bound of the wait for a master's READY line (default 120 s). Generous on purpose: a master
    /// that cannot start exits and is reported at once; only a slow start on a machine crowded with
    /// builds waits this long (a start took over 40 s under a load of 45 on 2 cores).
    /// </summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Flags added to every master after the timing flags (TLS, secrets, permissions, limits...).</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    /// <summary>Non-null: the masters serve TLS and the cluster's clients and channels use https with these settings.</summary>
    public SslClientAuthenticationOptions? ClientTls { get; init; }

    /// <summary>Bearer token the cluster's own clients and channels send (masters started with --auth jwt).</summary>
    public string? BearerToken { get; init; }

    /// <summary>The masters' <c>--cluster-id</c>; null = each derives it from <c>--members</c>.</summary>
    public string? ClusterId { get; init; }

    /// <summary>
    /// The peer address master <c>self</c> is told for master <c>other</c> in its <c>--members</c>
    /// (null: the other's own peer address). The chaos harness routes every link through a proxy here.
    /// </summary>
    public Func<MasterProcess, MasterProcess, string>? PeerAddressFor { get; init; }

    /// <summary>
    /// Called before each attempt to start the bootstrap members, once their ports are chosen
    /// (and again with new ports after a port clash): e.g. to start proxies in front of them.
    /// </summary>
    public Func<IReadOnlyList<MasterProcess>, ValueTask>? BeforeStart { get; init; }

    /// <summary>Whether starting the cluster waits for an agreed leader (default true).</summary>
    public bool WaitForLeader { get; init; } = true;

    /// <summary>hamaster-server.dll to run; null = <see cref="ServerBinary.Path"/>.</summary>
    public string? ServerDll { get; init; }

    /// <summary>Directory the masters live in, owned by the caller and never deleted; null = a new temporary directory deleted on disposal.</summary>
    public string? Directory { get; init; }

    /// <summary>Name prefix of the temporary directory (default "hamaster-cluster-").</summary>
    public string DirectoryPrefix { get; init; } = "hamaster-cluster-";

    public ClusterSettings Validate()
    {
        if (Size is < 1 or > 7) throw new ArgumentOutOfRangeException(nameof(Size), Size, "1..7 masters");
        if (TickMs < 1) throw new ArgumentOutOfRangeException(nameof(TickMs), TickMs, "must be positive");
        if (ElectionTicks < 2) throw new ArgumentOutOfRangeException(nameof(ElectionTicks), ElectionTicks, "must be at least 2");
        if (WaitTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(WaitTimeout), WaitTimeout, "must be positive");
        if (ReadyTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ReadyTimeout), ReadyTimeout, "must be positive");
        return this;
    }

    /// <summary>Flags shared by every master: timing, snapshots, cluster id, then <see cref="ExtraArguments"/>.</summary>
    public IReadOnlyList<string> CommonArguments()
    {
        var args = new List<string>();
        if (TickMs is { } tick) args.AddRange(["--tick-ms", tick.ToString(CultureInfo.InvariantCulture)]);
        if (ElectionTicks is { } election) args.AddRange(["--election-ticks", election.ToString(CultureInfo.InvariantCulture)]);
        if (SnapshotEvery is { } every) args.AddRange(["--snapshot-every", every.ToString(CultureInfo.InvariantCulture)]);
        if (LogKeep is { } keep) args.AddRange(["--log-keep", keep.ToString(CultureInfo.InvariantCulture)]);
        if (ClusterId is { } id) args.AddRange(["--cluster-id", id]);
        args.AddRange(ExtraArguments);
        return args;
    }
}
