using HaMaster.Metadata;

namespace HaMaster.Server.Hosting;

/// <summary>
/// The digest of the replicated state served by <c>/api/digest</c>, kept off the Raft loop: the
/// applied state is pinned (a RocksDB snapshot, taken with the applied index under the state
/// machine's apply gate, which costs microseconds) and hashed on a thread-pool thread while the
/// loop keeps applying. One computation at a time (callers queue, bounded by their own
/// cancellation); a caller arriving when the applied index has not moved gets the cached answer.
/// Equal applied indexes give equal digests on every master, as before.
/// </summary>
internal sealed class StateDigest(MetadataStateMachine machine) : IDisposable
{
    private readonly SemaphoreSlim _single = new(1, 1);
    private (ulong AppliedIndex, string Digest)? _last;
    private long _computations;

    /// <summary>Full scans done so far (cached answers do not count).</summary>
    public long Computations => Interlocked.Read(ref _computations);

    public async Task<(ulong AppliedIndex, string Digest)> GetAsync(CancellationToken cancellationToken)
    {
        await _single.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_last is { } cached && cached.AppliedIndex == machine.AppliedIndex) return cached;
            using var view = machine.BeginDigest();
            if (_last is { } again && again.AppliedIndex == view.AppliedIndex) return again;

            // Not cancelled with the caller: the result serves whoever asks next.
            var result = await Task.Run(view.Compute, CancellationToken.None).ConfigureAwait(false);
            Interlocked.Increment(ref _computations);
            _last = result;
            return result;
        }
        finally
        {
            _single.Release();
        }
    }

    public void Dispose() => _single.Dispose();
}
