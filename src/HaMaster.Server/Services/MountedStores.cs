using System.Collections.Concurrent;
using Grpc.Core;
using HaMaster.Metadata;
using HaMaster.Protos.V1;
using HaMaster.Ufs;

namespace HaMaster.Server.Services;

/// <summary>
/// The connectors of the mounted stores, one per mount, created on first use and replaced when the
/// mount's record changes (UpdateMount). Store checks for Mount and UpdateMount run here, on the
/// leader before it proposes, never at apply time.
/// </summary>
/// <remarks>Safe for concurrent use.</remarks>
internal sealed class MountedStores(UnderFileSystems systems)
{
    private readonly ConcurrentDictionary<ulong, (MountPointRecord Record, IUnderFileSystem Store)> _open = new();

    public IReadOnlyCollection<string> Schemes => systems.Schemes;

    /// <summary>The connector of <paramref name="mount"/>.</summary>
    public IUnderFileSystem Get(MountPointRecord mount)
    {
        if (_open.TryGetValue(mount.MountId, out var cached) && cached.Record.Equals(mount)) return cached.Store;
        var store = systems.Create(mount.UfsUri, mount.Properties);
        _open[mount.MountId] = (mount, store);
        if (cached.Store is not null) _ = cached.Store.DisposeAsync().AsTask();
        return store;
    }

    /// <summary>
    /// Checks that <paramref name="uri"/> names a store this master can reach whose root exists and is a
    /// directory, with <paramref name="properties"/> accepted by its connector; returns the canonical URI
    /// (scheme://authority/path without a trailing '/') that the mount table stores and compares.
    /// </summary>
    public async Task<string> CheckAsync(string uri, IReadOnlyDictionary<string, string> properties, CancellationToken cancellationToken)
    {
        await using var store = systems.Create(uri, properties);
        var root = await store.GetStatusAsync("", cancellationToken).ConfigureAwait(false);
        if (root is null) throw ServerErrors.Status(StatusCode.NotFound, $"the store root {uri} does not exist");
        if (!root.IsDirectory) throw ServerErrors.Status(StatusCode.FailedPrecondition, $"the store root {uri} is a file, not a directory");
        return Canonical(store.Root);
    }

    public static string Canonical(Uri uri) => uri.GetLeftPart(UriPartial.Path).TrimEnd('/');

    /// <summary>The store path of a namespace path under <paramref name="mount"/>.</summary>
    public static string StorePath(MountPointRecord mount, string path) =>
        path.Length == mount.Path.Length ? "" : path[(mount.Path.Length + 1)..];

    /// <summary>Turns a store entry into a loaded entry, or null when its name cannot be a HaMaster name.</summary>
    public static LoadedEntry? ToLoaded(UfsStatus status)
    {
        if (status.Name.Length == 0 || status.Name.Contains('/', StringComparison.Ordinal) || PathValidator.Check("/" + status.Name) != PathProblem.None) return null;
        return new LoadedEntry
        {
            Name = status.Name,
            Kind = status.IsDirectory ? InodeKind.Directory : InodeKind.File,
            Length = (ulong)Math.Max(0, status.Length),
            ModificationTimeMs = status.ModificationTimeMs,
            Fingerprint = status.Fingerprint,
        };
    }
}
