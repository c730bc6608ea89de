using HaMaster.Protos.V1;
using HaMaster.Ufs;
using FileInfo = HaMaster.Protos.V1.FileInfo;

namespace HaMaster.Server.Services.MetadataSync;

/// <summary>
/// The differences between a store directory's entries and the namespace's children of the
/// directory it is mounted as: what metadata sync journals (issue 18). Pure: no I/O.
/// </summary>
internal static class SyncDiff
{
    /// <summary>
    /// Compares by name and fingerprint. New in the store, or changed in kind or (files) in
    /// fingerprint: an upsert. Gone from the store: a removal, only for persisted children (a child
    /// created through HaMaster and not persisted yet is not the store's). Children that are not
    /// persisted are never compared, so a sync of an unchanged directory finds nothing to journal.
    /// Store entries whose names HaMaster cannot hold are left out.
    /// </summary>
    public static Result Compare(IReadOnlyList<UfsStatus> store, IEnumerable<FileInfo> children)
    {
        var found = new Dictionary<string, LoadedEntry>(store.Count, StringComparer.Ordinal);
        var subdirectories = new List<string>();
        foreach (var status in store)
        {
            if (MountedStores.ToLoaded(status) is not { } entry || !found.TryAdd(entry.Name, entry)) continue;
            if (entry.Kind == InodeKind.Directory) subdirectories.Add(entry.Name);
        }

        var upserts = new List<LoadedEntry>();
        var removed = new List<string>();
        foreach (var child in children)
        {
            if (!found.Remove(child.Name, out var entry))
            {
                if (child.Persisted) removed.Add(child.Name);
                continue;
            }

            if (!child.Persisted) continue;
            if (child.Kind != entry.Kind || (entry.Kind == InodeKind.File && child.UfsFingerprint != entry.Fingerprint)) upserts.Add(entry);
        }

        upserts.AddRange(found.Values); // new in the store
        upserts.Sort(static (a, b) => UfsNameOrder.Instance.Compare(a.Name, b.Name));
        removed.Sort(UfsNameOrder.Instance);
        return new Result(upserts, removed, subdirectories);
    }

    /// <summary>
    /// Splits a directory's differences into commands of at most <paramref name="pageEntries"/>
    /// differences each; the last is marked complete. One command when they fit, so a directory's
    /// diff is then applied atomically.
    /// </summary>
    public static List<SyncMetadataCommand> Pages(string path, ulong mountId, Result diff, int pageEntries)
    {
        var pages = new List<SyncMetadataCommand> { new() { Path = path, MountId = mountId } };
        foreach (var name in diff.Removed)
        {
            Current(pages, path, mountId, pageEntries).Removed.Add(name);
        }

        foreach (var entry in diff.Upserts)
        {
            Current(pages, path, mountId, pageEntries).Upserts.Add(entry);
        }

        pages[^1].Complete = true;
        return pages;
    }

    private static SyncMetadataCommand Current(List<SyncMetadataCommand> pages, string path, ulong mountId, int pageEntries)
    {
        var last = pages[^1];
        if (last.Removed.Count + last.Upserts.Count < pageEntries) return last;
        last = new SyncMetadataCommand { Path = path, MountId = mountId };
        pages.Add(last);
        return last;
    }

    /// <param name="Upserts">Entries to create or update, in store name order.</param>
    /// <param name="Removed">Names of persisted children the store no longer has.</param>
    /// <param name="Subdirectories">The store's subdirectories (for a recursive sync).</param>
    public sealed record Result(List<LoadedEntry> Upserts, List<string> Removed, List<string> Subdirectories)
    {
        public int Count => Upserts.Count + Removed.Count;
    }
}
