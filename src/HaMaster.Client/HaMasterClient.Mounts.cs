using HaMaster.Protos.V1;

namespace HaMaster.Client;

// FileSystemMaster: mounted external stores (issue 18).
public sealed partial class HaMasterClient
{
    /// <summary>Mounts the store at <paramref name="ufsUri"/> (e.g. file:///data) at <paramref name="path"/>, which must not exist yet.</summary>
    public async ValueTask<MountPointInfo> MountAsync(string path, string ufsUri, MountOptions? options = null, CancellationToken cancellationToken = default) =>
        (await InvokeWriteAsync(FileSystemService + "Mount", new MountRequest { Path = path, UfsUri = ufsUri, Options = options ?? new MountOptions() },
            static (r, s) => r.Session = s, static (m, r, o) => m.FileSystem.MountAsync(r, o), cancellationToken).ConfigureAwait(false)).Mount;

    /// <summary>Removes a mount and the metadata under it (not the store's data); returns the inodes removed.</summary>
    public async ValueTask<ulong> UnmountAsync(string path, CancellationToken cancellationToken = default) =>
        (await InvokeWriteAsync(FileSystemService + "Unmount", new UnmountRequest { Path = path },
            static (r, s) => r.Session = s, static (m, r, o) => m.FileSystem.UnmountAsync(r, o), cancellationToken).ConfigureAwait(false)).DeletedCount;

    /// <summary>Replaces a mount's options.</summary>
    public async ValueTask<MountPointInfo> UpdateMountAsync(string path, MountOptions options, CancellationToken cancellationToken = default) =>
        (await InvokeWriteAsync(FileSystemService + "UpdateMount", new UpdateMountRequest { Path = path, Options = options },
            static (r, s) => r.Session = s, static (m, r, o) => m.FileSystem.UpdateMountAsync(r, o), cancellationToken).ConfigureAwait(false)).Mount;

    /// <summary>The mount table sorted by path (secret-looking option values masked).</summary>
    public async ValueTask<IReadOnlyList<MountPointInfo>> GetMountTableAsync(Consistency consistency = Consistency.Linearizable, CancellationToken cancellationToken = default) =>
        (await InvokeAsync(FileSystemService + "GetMountTable", new GetMountTableRequest { Consistency = consistency },
            static (m, r, o) => m.FileSystem.GetMountTableAsync(r, o), CallKind.Read, cancellationToken).ConfigureAwait(false)).Mounts;
}
