using System.Globalization;
using System.Reflection;

namespace HaMaster.Chaos;

/// <summary>
/// One chaos run. Immutable; <see cref="Validate"/> checks the bounds. Times are wall-clock.
/// </summary>
public sealed record ChaosOptions
{
    /// <summary>Seed of the fault plan, the target picks and the client workload (default 1).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Voting masters, 3 or 5 (default 3).</summary>
    public int Masters { get; init; } = 3;

    /// <summary>How long faults are planned for (default 2 min); the run lasts longer by start-up, recoveries and checks.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Clients through the client library (retries, leader discovery, exactly-once sessions). Default 4.</summary>
    public int LibraryClients { get; init; } = 4;

    /// <summary>Clients on raw gRPC channels: one attempt per call, no session, any master. Default 2.</summary>
    public int RawClients { get; init; } = 2;

    /// <summary>Top-level directories the workload spreads over (each one is a partition of the check). Default 8.</summary>
    public int TopDirectories { get; init; } = 8;

    /// <summary>Pause of a client between two operations, drawn in [0, this] (default 15 ms): keeps the history checkable.</summary>
    public TimeSpan ClientThinkTime { get; init; } = TimeSpan.FromMilliseconds(15);

    /// <summary>Quiet gap before each fault, drawn in [MinGap, MaxGap] (defaults 0.5 s and 2 s).</summary>
    public TimeSpan MinGap { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxGap { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long each fault is held, drawn in [MinHold, MaxHold] (defaults 1 s and 4 s; pauses last at least <see cref="MinPause"/>).</summary>
    public TimeSpan MinHold { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxHold { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>Shortest SIGSTOP pause: longer than the largest election timeout (default 2.5 s against 1.6 s).</summary>
    public TimeSpan MinPause { get; init; } = TimeSpan.FromSeconds(2.5);

    /// <summary>After every heal the cluster must acknowledge a write within this bound (default 30 s).</summary>
    public TimeSpan RecoveryBound { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Budget of the linearizability search (default 300 s).</summary>
    public TimeSpan CheckTimeout { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>Raft tick of the masters in ms (default 50); null runs the server's own default.</summary>
    public int? TickMs { get; init; } = 50;

    /// <summary>Election timeout in ticks (default 16: 0.8-1.6 s); null runs the server's own default.</summary>
    public int? ElectionTicks { get; init; } = 16;

    /// <summary>Entries between automatic snapshots (default 200: the log is compacted often).</summary>
    public long SnapshotEvery { get; init; } = 200;

    /// <summary>Entries kept behind a snapshot (default 20).</summary>
    public long LogKeep { get; init; } = 20;

    /// <summary>
    /// Negative control: raw clients read with CONSISTENCY_STALE from any master. The history is
    /// then expected NOT to be linearizable, which shows the harness can see the difference. Default false.
    /// </summary>
    public bool StaleRawReads { get; init; }

    /// <summary>Where data, logs and the history go (default: a new temporary directory).</summary>
    public string? WorkDirectory { get; init; }

    /// <summary>Keep the data directories after a passing run (failing runs always keep everything).</summary>
    public bool KeepData { get; init; }

    /// <summary>hamaster-server.dll to run (default: the build next to this harness, same configuration).</summary>
    public string ServerDll { get; init; } = DefaultServerDll();

    /// <summary>Progress lines (faults, recoveries); null = silent.</summary>
    public TextWriter? Progress { get; init; } = Console.Out;

    public ChaosOptions Validate()
    {
        if (Masters is not (3 or 5)) throw new ArgumentOutOfRangeException(nameof(Masters), Masters, "3 or 5 masters");
        if (Duration <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(Duration), Duration, "must be positive");
        if (LibraryClients < 1) throw new ArgumentOutOfRangeException(nameof(LibraryClients), LibraryClients, "at least one library client");
        if (RawClients < 0) throw new ArgumentOutOfRangeException(nameof(RawClients), RawClients, "must not be negative");
        if (TopDirectories is < 1 or > 64) throw new ArgumentOutOfRangeException(nameof(TopDirectories), TopDirectories, "1..64");
        if (MinGap < TimeSpan.Zero || MaxGap < MinGap) throw new ArgumentOutOfRangeException(nameof(MaxGap), "0 <= MinGap <= MaxGap");
        if (MinHold <= TimeSpan.Zero || MaxHold < MinHold) throw new ArgumentOutOfRangeException(nameof(MaxHold), "0 < MinHold <= MaxHold");
        if (RecoveryBound <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(RecoveryBound), "must be positive");
        if (TickMs < 1 || ElectionTicks < 2) throw new ArgumentOutOfRangeException(nameof(TickMs), "tick >= 1 ms, election >= 2 ticks");
        if (TickMs is { } tick && ElectionTicks is { } election && MinPause <= TimeSpan.FromMilliseconds(2.0 * tick * election))
        {
            throw new ArgumentOutOfRangeException(nameof(MinPause), MinPause, "a pause must outlast the largest election timeout (2 x tick x election ticks)");
        }

        if (!File.Exists(ServerDll))
        {
            throw new FileNotFoundException($"hamaster-server.dll not found at {ServerDll}; build src/HaMaster.Server in this configuration (scripts/chaos.sh does)", ServerDll);
        }

        return this;
    }

    /// <summary>Parses "90s", "30m", "2h", "1500ms" or plain seconds.</summary>
    public static TimeSpan ParseDuration(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        text = text.Trim();
        (string Suffix, Func<double, TimeSpan> Make)[] units =
            [("ms", TimeSpan.FromMilliseconds), ("s", TimeSpan.FromSeconds), ("m", TimeSpan.FromMinutes), ("h", TimeSpan.FromHours)];
        foreach (var (suffix, make) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                return make(value);
            }
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : throw new FormatException($"not a duration: '{text}' (use e.g. 90s, 30m, 2h)");
    }

    private static string DefaultServerDll() => ServerBinary.DefaultPath;
}
