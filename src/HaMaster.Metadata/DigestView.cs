using HaMaster.Metadata.Store;
using HaMaster.Protos.V1;
using HaMaster.Metadata.Store.Rocks;

namespace HaMaster.Metadata;

/// <summary>
/// A pinned applied state whose digest equals <see cref="MetadataStateMachine.Digest"/> at
/// <see cref="AppliedIndex"/> (from <see cref="MetadataStateMachine.BeginDigest"/>).
/// </summary>
public sealed class DigestView : IDisposable
{
    private readonly StateRecord _state;
    private readonly RocksMetastore.SnapshotReader? _snapshot;
    private readonly Func<(ulong AppliedIndex, string Digest)>? _live;

    internal DigestView(StateRecord state, RocksMetastore.SnapshotReader snapshot)
    {
        _state = state;
        _snapshot = snapshot;
    }

    internal DigestView(StateRecord state, Func<(ulong AppliedIndex, string Digest)> live)
    {
        _state = state;
        _live = live;
    }

    /// <summary>The applied index the digest is of (Heap: as when the view was taken; see <see cref="Compute"/>).</summary>
    public ulong AppliedIndex => _state.AppliedIndex;

    /// <summary>
    /// The full scan. Rocks: reads the pinned snapshot, concurrently with applying. Heap: hashes the
    /// live state under the apply gate and returns the applied index it actually hashed.
    /// </summary>
    public (ulong AppliedIndex, string Digest) Compute()
    {
        if (_snapshot is { } s)
        {
            return (_state.AppliedIndex, StateHasher.Compute(_state, s.ReadMounts(), s.EnumerateInodes(), s.EnumerateBlocks(), s.ListLocations, s.EnumerateWorkers()));
        }

        return _live!();
    }

    public void Dispose() => _snapshot?.Dispose();
}
