using HaMaster.Protos.V1;

namespace HaMaster.Metadata;

/// <summary>
/// The replicated mount table (issue 18): immutable; apply replaces it as a whole. Small (tens of
/// mounts), so every lookup is a scan of a short array, cheap enough for the read hot path.
/// </summary>
/// <remarks>Shared between threads without locks: instances are never mutated after construction.</remarks>
public sealed class MountTable
{
    public static readonly MountTable Empty = new([]);

    private readonly MountPointRecord[] _mounts;

    private MountTable(MountPointRecord[] mounts) => _mounts = mounts;

    /// <summary>Mount points sorted by path (ordinal order).</summary>
    public IReadOnlyList<MountPointRecord> Mounts => _mounts;

    public bool IsEmpty => _mounts.Length == 0;

    internal static MountTable FromRecord(MountTableRecord? record) =>
        record is null || record.Mounts.Count == 0 ? Empty : new([.. record.Mounts.OrderBy(m => m.Path, StringComparer.Ordinal)]);

    internal static MountTable FromBytes(byte[]? bytes) => bytes is null ? Empty : FromRecord(MountTableRecord.Parser.ParseFrom(bytes));

    internal MountTableRecord ToRecord()
    {
        var record = new MountTableRecord();
        record.Mounts.AddRange(_mounts);
        return record;
    }

    internal MountTable With(MountPointRecord mount) =>
        new([.. _mounts.Where(m => m.Path != mount.Path).Append(mount).OrderBy(m => m.Path, StringComparer.Ordinal)]);

    internal MountTable Without(string path) => new([.. _mounts.Where(m => m.Path != path)]);

    /// <summary>The mount at exactly <paramref name="path"/>, or null.</summary>
    public MountPointRecord? At(string path)
    {
        foreach (var mount in _mounts)
        {
            if (mount.Path == path) return mount;
        }

        return null;
    }

    /// <summary>True when <paramref name="inodeId"/> is a mount point's directory.</summary>
    public bool IsMountPoint(ulong inodeId)
    {
        foreach (var mount in _mounts)
        {
            if (mount.MountId == inodeId) return true;
        }

        return false;
    }

    /// <summary>
    /// The mount that holds <paramref name="path"/> (the longest mount path that is the path or an
    /// ancestor of it) and the path inside the store ("" for the mount point itself), or null when
    /// the path is outside every mount.
    /// </summary>
    public (MountPointRecord Mount, string StorePath)? Resolve(string path)
    {
        MountPointRecord? best = null;
        foreach (var mount in _mounts)
        {
            if (IsSameOrUnder(path, mount.Path) && (best is null || mount.Path.Length > best.Path.Length)) best = mount;
        }

        if (best is null) return null;
        return (best, path.Length == best.Path.Length ? "" : path[(best.Path.Length + 1)..]);
    }

    /// <summary>The first mount point at or below <paramref name="path"/> (it or a descendant), or null.</summary>
    public MountPointRecord? FirstAtOrUnder(string path)
    {
        foreach (var mount in _mounts)
        {
            if (IsSameOrUnder(mount.Path, path)) return mount;
        }

        return null;
    }

    /// <summary>A mount other than the one at <paramref name="exceptPath"/> whose store location overlaps
    /// <paramref name="ufsUri"/> (equal, or one inside the other) and is not shared on both sides.</summary>
    internal MountPointRecord? Overlapping(string ufsUri, bool shared, string? exceptPath)
    {
        foreach (var mount in _mounts)
        {
            if (mount.Path == exceptPath) continue;
            if (shared && mount.Shared) continue;
            if (IsSameOrUnder(ufsUri, mount.UfsUri) || IsSameOrUnder(mount.UfsUri, ufsUri)) return mount;
        }

        return null;
    }

    /// <summary>True when <paramref name="path"/> equals <paramref name="ancestor"/> or lies below it ('/'-separated).</summary>
    internal static bool IsSameOrUnder(string path, string ancestor)
    {
        if (ancestor == "/") return path.StartsWith('/');
        return path.StartsWith(ancestor, StringComparison.Ordinal) && (path.Length == ancestor.Length || path[ancestor.Length] == '/');
    }

    /// <summary>The client's view of a mount: property values of secret-looking keys are masked.</summary>
    public static MountPointInfo ToInfo(MountPointRecord mount)
    {
        var info = new MountPointInfo
        {
            Path = mount.Path,
            UfsUri = mount.UfsUri,
            ReadOnly = mount.ReadOnly,
            Shared = mount.Shared,
            MountId = mount.MountId,
            MountedAtMs = mount.MountedAtMs,
        };
        foreach (var (key, value) in mount.Properties)
        {
            info.Properties[key] = LooksSecret(key) ? "***" : value;
        }

        return info;
    }

    /// <summary>Keys whose values are never shown (credentials): names containing secret, password, key or token.</summary>
    public static bool LooksSecret(string key) =>
        key.Contains("secret", StringComparison.OrdinalIgnoreCase) || key.Contains("password", StringComparison.OrdinalIgnoreCase)
        || key.Contains("key", StringComparison.OrdinalIgnoreCase) || key.Contains("token", StringComparison.OrdinalIgnoreCase);
}
