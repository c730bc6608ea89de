using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Store;

/// <summary>Expiry index maintenance: the index changes of a transaction are derived from its inode
/// changes, so no command has to remember to update it.</summary>
internal sealed partial class ApplyTransaction
{
    // Ids at or above this were allocated by this transaction: they had no committed record.
    private readonly ulong _firstNewInodeId;

    // Committed expiry (TtlIndexKeys.None = not indexed) of every inode this transaction changed,
    // recorded the first time it is touched.
    private readonly Dictionary<ulong, long> _committedExpiry = [];

    /// <summary>Records the committed expiry of <paramref name="id"/> before its first change.
    /// <paramref name="committed"/>, when given, is the record as the store holds it (or, if the
    /// transaction already changed the inode, anything: the first recording wins).</summary>
    private void RememberCommittedExpiry(ulong id, InodeRecord? committed = null)
    {
        if (_committedExpiry.ContainsKey(id)) return;
        if (committed is null && !Inodes.ContainsKey(id) && id < _firstNewInodeId)
        {
            committed = _store.Inodes.GetInode(id);
        }

        _committedExpiry[id] = TtlIndexKeys.ExpiryOf(committed);
    }

    /// <summary>The index changes of this transaction: for each changed inode whose expiry moved,
    /// the key to remove (Old) and the key to add (New), either <see cref="TtlIndexKeys.None"/>.</summary>
    public IEnumerable<(ulong InodeId, long Old, long New)> TtlIndexChanges()
    {
        foreach (var (id, inode) in Inodes)
        {
            var old = _committedExpiry.TryGetValue(id, out var e) ? e : TtlIndexKeys.None;
            var now = TtlIndexKeys.ExpiryOf(inode);
            if (old != now)
            {
                yield return (id, old, now);
            }
        }
    }
}
