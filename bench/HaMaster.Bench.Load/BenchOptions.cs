namespace HaMaster.Bench.Load;

/// <summary>What the load generator does in a run.</summary>
internal enum BenchWorkload
{
    /// <summary>HaMaster CreateFile of new files spread over K directories / etcd Put of a new 16-byte key with a 100-byte value.</summary>
    Write,

    /// <summary>Linearizable GetStatus of prepared files / etcd linearizable Range of one key.</summary>
    Read,

    /// <summary>Stale GetStatus / etcd serializable Range.</summary>
    ReadStale,

    /// <summary>ListStatus of a 100-entry directory / etcd prefix Range with limit 100.</summary>
    List,

    /// <summary>90% linearizable reads, 10% writes.</summary>
    Mixed,
}

/// <summary>The system under test.</summary>
internal enum BenchTarget
{
    HaMaster,
    Etcd,
}

/// <summary>Settings of one load-generator run. Immutable; <see cref="Validate"/> before use.</summary>
internal sealed record BenchOptions
{
    /// <summary>Endpoints (host:port): HaMaster masters' client ports, or etcd client URLs' host:port.</summary>
    public IReadOnlyList<string> Endpoints { get; init; } = [];

    public BenchTarget Target { get; init; } = BenchTarget.HaMaster;

    public BenchWorkload Workload { get; init; } = BenchWorkload.Write;

    /// <summary>Requests kept in flight (one async worker each). Default 16.</summary>
    public int Concurrency { get; init; } = 16;

    /// <summary>Run length when <see cref="Operations"/> is not set. Default 10 s.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Unmeasured load before the measured <see cref="Duration"/>: lets both sides reach steady state
    /// (.NET's tiered JIT, connection pools, caches) so the figures describe the system, not its first
    /// seconds. Ignored with <see cref="Operations"/>. Default 1 s.
    /// </summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Stop after this many operations (successful or failed) instead of after <see cref="Duration"/>.</summary>
    public long? Operations { get; init; }

    /// <summary>Directories the write workload spreads its creates over. Default 16.</summary>
    public int Directories { get; init; } = 16;

    /// <summary>Entries prepared for the read workloads (files or keys read round-robin). Default 100.</summary>
    public int ReadSetSize { get; init; } = 100;

    /// <summary>Entries of the listed directory / prefix. Default 100 (issue 8).</summary>
    public int ListSize { get; init; } = 100;

    /// <summary>
    /// True: spread requests round-robin over every reachable member, as clients that know only the
    /// seed list do (HaMaster followers forward writes and serve linearizable reads by ReadIndex);
    /// false: all to the current leader. The command line's default is spread (<c>--shape</c>); this
    /// record's is false, the shape the library's own tests and the scale load use.
    /// </summary>
    public bool Spread { get; init; }

    /// <summary>
    /// PIDs of the servers under test on this machine (all members): their utime + stime from /proc
    /// over the measured interval gives the server CPU per operation. Empty (default): not measured.
    /// </summary>
    public IReadOnlyList<int> ServerPids { get; init; } = [];

    /// <summary>Deadline of one request. Default 10 s.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Names this run's keys and paths (/bench/RUN/...) so runs do not collide. Default: random 8 hex digits.</summary>
    public string RunId { get; init; } = Random.Shared.Next().ToString("x8", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Share of reads in the mixed workload (0..1). Default 0.9.</summary>
    public double MixedReadFraction { get; init; } = 0.9;

    public BenchOptions Validate()
    {
        if (Endpoints.Count == 0)
        {
            throw new ArgumentException("At least one endpoint is required.", nameof(Endpoints));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Concurrency, 1, nameof(Concurrency));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Concurrency, 100_000, nameof(Concurrency));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Duration, TimeSpan.Zero, nameof(Duration));
        ArgumentOutOfRangeException.ThrowIfLessThan(Warmup, TimeSpan.Zero, nameof(Warmup));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(CallTimeout, TimeSpan.Zero, nameof(CallTimeout));
        if (Operations is { } ops)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(ops, 1, nameof(Operations));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Directories, 1, nameof(Directories));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReadSetSize, 1, nameof(ReadSetSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(ListSize, 1, nameof(ListSize));
        if (MixedReadFraction is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MixedReadFraction), "must be between 0 and 1");
        }

        if (ServerPids.Any(pid => pid <= 0))
        {
            throw new ArgumentException("Server PIDs must be positive process ids.", nameof(ServerPids));
        }

        if (RunId.Length != 8 || !RunId.All(char.IsAsciiHexDigit))
        {
            throw new ArgumentException("RunId must be 8 hex digits (it prefixes 16-byte etcd keys).", nameof(RunId));
        }

        return this;
    }
}

/// <summary>
/// The figures of one run (also the --json output). The CPU figures are over the measured interval
/// (see <see cref="ProcCpu.Compute"/>); null when not measured (no server PIDs, no /proc).
/// </summary>
internal sealed record BenchReport(
    string Target,
    string Workload,
    string Shape,
    int Concurrency,
    long Operations,
    long Errors,
    double Seconds,
    double OpsPerSecond,
    double P50Ms,
    double P90Ms,
    double P99Ms,
    double P999Ms,
    double MaxMs,
    double MeanMs,
    string? FirstError,
    double? ServerCpuSeconds = null,
    double? ServerCpuMsPerOp = null,
    double? GeneratorCpuCores = null,
    int GeneratorUsableCores = 0,
    double? MachineBusyFraction = null,
    bool GeneratorSaturated = false,
    string? Saturation = null);
