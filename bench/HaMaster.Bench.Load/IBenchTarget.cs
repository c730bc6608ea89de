namespace HaMaster.Bench.Load;

/// <summary>
/// One system under test, driven by <see cref="LoadGenerator"/>: the generator's code path (workers,
/// timing, histogram) is the same for every target, only these calls differ.
/// Operations must be safe to call concurrently; they throw on failure (counted as errors).
/// </summary>
internal interface IBenchTarget : IAsyncDisposable
{
    /// <summary>Creates what the workload needs (directories, the read set, the 100-entry list), with retries.</summary>
    ValueTask PrepareAsync(BenchWorkload workload, CancellationToken cancellationToken);

    /// <summary>One write of a new entry; <paramref name="index"/> is unique in the run.</summary>
    ValueTask WriteAsync(long index, CancellationToken cancellationToken);

    /// <summary>One read of prepared entry <paramref name="index"/> modulo the read set size.</summary>
    ValueTask ReadAsync(long index, bool stale, CancellationToken cancellationToken);

    /// <summary>One listing of the prepared 100-entry directory / prefix.</summary>
    ValueTask ListAsync(long index, CancellationToken cancellationToken);

    /// <summary>Members requests can be sent to (after <see cref="PrepareAsync"/>): 1 unless spreading over all members.</summary>
    int MemberCount { get; }

    /// <summary>One raw write of a new entry sent to member <paramref name="member"/> (0..MemberCount-1); used by the availability probe.</summary>
    ValueTask WriteToAsync(int member, long index, CancellationToken cancellationToken);
}
