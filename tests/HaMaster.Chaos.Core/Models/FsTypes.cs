namespace HaMaster.Chaos.Core.Models;

public enum FsOpKind
{
    CreateFile,
    Mkdir,
    Delete,
    Rename,
    SetMode,
    GetStatus,
    List,
}

public enum FsKind
{
    File,
    Directory,
}

/// <summary>Answers the file-system model distinguishes; the chaos harness maps real gRPC results onto them.</summary>
public enum FsStatus
{
    Ok,
    AlreadyExists,
    ParentMissing,
    NotFound,
    NotEmpty,
    DestinationExists,

    /// <summary>The parent (create, mkdir, rename destination) or the listed path is a file.</summary>
    NotADirectory,

    /// <summary>Deleting or renaming the root, or renaming a directory into its own subtree.</summary>
    InvalidArgument,
}

/// <summary>
/// One file-system operation. Paths are absolute, '/'-separated, without a trailing slash
/// ("/" is the root, which always exists). <see cref="Mode"/> is the permission bits for
/// <see cref="FsOpKind.CreateFile"/>, <see cref="FsOpKind.Mkdir"/> and <see cref="FsOpKind.SetMode"/>;
/// <see cref="Destination"/> is used by <see cref="FsOpKind.Rename"/> only.
/// </summary>
public sealed record FsInput(FsOpKind Kind, string Path, string? Destination = null, int Mode = 0)
{
    public const int DefaultFileMode = 420; // 0644
    public const int DefaultDirectoryMode = 493; // 0755

    public static FsInput CreateFile(string path, int mode = DefaultFileMode) => new(FsOpKind.CreateFile, FsPath.Check(path), Mode: mode);
    public static FsInput Mkdir(string path, int mode = DefaultDirectoryMode) => new(FsOpKind.Mkdir, FsPath.Check(path), Mode: mode);
    public static FsInput Delete(string path) => new(FsOpKind.Delete, FsPath.Check(path));
    public static FsInput Rename(string source, string destination) => new(FsOpKind.Rename, FsPath.Check(source), FsPath.Check(destination));
    public static FsInput SetMode(string path, int mode) => new(FsOpKind.SetMode, FsPath.Check(path), Mode: mode);
    public static FsInput GetStatus(string path) => new(FsOpKind.GetStatus, FsPath.Check(path));
    public static FsInput List(string path) => new(FsOpKind.List, FsPath.Check(path));

    /// <summary>True for operations that change state when they succeed.</summary>
    public bool IsMutation => Kind is not (FsOpKind.GetStatus or FsOpKind.List);

    public override string ToString() => Kind switch
    {
        FsOpKind.Rename => $"rename {Path} {Destination}",
        FsOpKind.CreateFile or FsOpKind.Mkdir or FsOpKind.SetMode => $"{Kind} {Path} mode={Convert.ToString(Mode, 8)}",
        _ => $"{Kind} {Path}",
    };
}

/// <summary>
/// An answer: a status plus, for <see cref="FsOpKind.GetStatus"/>, kind and mode, and for
/// <see cref="FsOpKind.List"/>, the child names in ordinal order. Value equality includes the children.
/// </summary>
public sealed record FsOutput(FsStatus Status, FsKind? Kind = null, int? Mode = null, IReadOnlyList<string>? Children = null)
{
    public static FsOutput Ok { get; } = new(FsStatus.Ok);

    public static FsOutput Of(FsStatus status) => status == FsStatus.Ok ? Ok : new(status);

    public static FsOutput Found(FsKind kind, int mode) => new(FsStatus.Ok, kind, mode);

    /// <summary>A listing; the names are sorted ordinally here so callers need not.</summary>
    public static FsOutput Listing(IEnumerable<string> children)
        => new(FsStatus.Ok, Children: children.Order(StringComparer.Ordinal).ToArray());

    public bool Equals(FsOutput? other)
    {
        if (other is null || other.Status != Status || other.Kind != Kind || other.Mode != Mode)
        {
            return false;
        }

        if (Children is null || other.Children is null)
        {
            return Children is null && other.Children is null;
        }

        return Children.SequenceEqual(other.Children, StringComparer.Ordinal);
    }

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Status);
        hash.Add(Kind);
        hash.Add(Mode);
        foreach (var child in Children ?? [])
        {
            hash.Add(child, StringComparer.Ordinal);
        }

        return hash.ToHashCode();
    }

    public override string ToString()
    {
        if (Children is not null)
        {
            return $"{Status} [{string.Join(", ", Children)}]";
        }

        return Kind is null ? Status.ToString() : $"{Status} {Kind} mode={Convert.ToString(Mode ?? 0, 8)}";
    }
}

/// <summary>Path arithmetic for the model (pure string work, no normalisation beyond validation).</summary>
public static class FsPath
{
    public const string Root = "/";

    public static string Check(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0 || path[0] != '/' || (path.Length > 1 && path[^1] == '/') || path.Contains("//", StringComparison.Ordinal))
        {
            throw new ArgumentException($"not an absolute normalised path: '{path}'", nameof(path));
        }

        return path;
    }

    public static string Parent(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash <= 0 ? Root : path[..slash];
    }

    public static string Name(string path) => path[(path.LastIndexOf('/') + 1)..];

    /// <summary>The first component ("/a/b" -> "a"); empty for the root.</summary>
    public static string TopLevel(string path)
    {
        if (path == Root)
        {
            return string.Empty;
        }

        var slash = path.IndexOf('/', 1);
        return slash < 0 ? path[1..] : path[1..slash];
    }

    /// <summary>True when <paramref name="path"/> is <paramref name="ancestor"/> or lies below it.</summary>
    public static bool IsWithin(string path, string ancestor)
        => ancestor == Root || path == ancestor || path.StartsWith(ancestor + "/", StringComparison.Ordinal);
}
