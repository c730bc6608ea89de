namespace HaMaster.Chaos.Failover;

/// <summary>
/// Issue 19's failover measurement: 3 masters with the server's own timing defaults (unless set),
/// a closed-loop write load, first a quiet stretch that counts leader changes, then SIGSTOPs of the
/// leader that each record the longest write gap. Immutable; <see cref="Validate"/> checks bounds.
/// </summary>
public sealed record FailoverOptions
{
    /// <summary>Quiet stretch at full load with no faults, in which leader changes are counted (default 60 s; 0 skips it).</summary>
    public TimeSpan QuietDuration { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>SIGSTOPs of the leader (default 6).</summary>
    public int Pauses { get; init; } = 6;

    /// <summary>How long each pause is held (default 4 s: longer than any election timeout under test).</summary>
    public TimeSpan PauseHold { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>Steady load between a resume and the next pause (default 4 s).</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>Concurrent writers, spread over the masters, one write in flight each (default 64).</summary>
    public int Writers { get; init; } = 64;

    /// <summary>Deadline of one write; a writer whose call fails moves to the next master (default 1 s, as the bench's probe).</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Raft tick in ms; null = the server's default (what is measured).</summary>
    public int? TickMs { get; init; }

    /// <summary>Election timeout in ticks; null = the server's default.</summary>
    public int? ElectionTicks { get; init; }

    public string? WorkDirectory { get; init; }

    public string? ServerDll { get; init; }

    public TextWriter? Progress { get; init; } = Console.Out;

    public FailoverOptions Validate()
    {
        if (QuietDuration < TimeSpan.Zero || QuietDuration > TimeSpan.FromMinutes(30)) throw new ArgumentOutOfRangeException(nameof(QuietDuration), QuietDuration, "0..30 min");
        if (Pauses is < 0 or > 100) throw new ArgumentOutOfRangeException(nameof(Pauses), Pauses, "0..100");
        if (PauseHold <= TimeSpan.Zero || PauseHold > TimeSpan.FromMinutes(1)) throw new ArgumentOutOfRangeException(nameof(PauseHold), PauseHold, "(0, 1 min]");
        if (Settle < TimeSpan.Zero || Settle > TimeSpan.FromMinutes(1)) throw new ArgumentOutOfRangeException(nameof(Settle), Settle, "[0, 1 min]");
        if (Writers is < 1 or > 1024) throw new ArgumentOutOfRangeException(nameof(Writers), Writers, "1..1024");
        if (CallTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(CallTimeout), CallTimeout, "must be positive");
        return this;
    }

    /// <summary>The cluster set-up shared with the chaos harness: 3 masters, server defaults for snapshots too.</summary>
    internal ChaosOptions ClusterOptions()
    {
        var options = new ChaosOptions
        {
            Masters = 3,
            TickMs = TickMs,
            ElectionTicks = ElectionTicks,
            SnapshotEvery = 100_000,
            LogKeep = 5_000,
            Progress = Progress,
        };
        return ServerDll is { } dll ? options with { ServerDll = dll } : options;
    }
}
