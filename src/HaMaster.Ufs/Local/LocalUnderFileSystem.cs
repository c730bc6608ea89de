namespace HaMaster.Ufs.Local;

/// <summary>
/// A directory of the local file system as a store. Paths never leave the root: '.', '..' and
/// empty components are refused (InvalidArgument), and a symbolic link whose target lies outside
/// the root is refused (PermissionDenied) or, in a listing, left out.
/// </summary>
/// <remarks>Stateless apart from the root: safe for concurrent use. Blocking file-system calls run
/// on the calling thread (they are short; the callers are already off the request threads' hot path).</remarks>
internal sealed class LocalUnderFileSystem : IUnderFileSystem
{
    private readonly string _root;
    private readonly ListingCursors _cursors = new();

    public LocalUnderFileSystem(Uri uri, string root)
    {
        Root = uri;
        _root = root;
    }

    public Uri Root { get; }

    public ValueTask<UfsStatus?> GetStatusAsync(string path, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Run(path, () =>
        {
            var full = Confine(path);
            var info = StatusOf(full, NameOf(path));
            return ValueTask.FromResult(info);
        });
    }

    public ValueTask<UfsListing> ListAsync(string path, string? continuationToken, int maxEntries, CancellationToken cancellationToken)
    {
        if (maxEntries < 1) throw new UfsException(UfsErrorKind.InvalidArgument, $"maxEntries must be at least 1 (got {maxEntries})");
        var after = continuationToken is null ? null : ParseToken(continuationToken);
        cancellationToken.ThrowIfCancellationRequested();
        return Run(path, () =>
        {
            var full = Confine(path);
            if (!Directory.Exists(full))
            {
                throw new UfsException(File.Exists(full) ? UfsErrorKind.FailedPrecondition : UfsErrorKind.NotFound,
                    File.Exists(full) ? $"{Describe(path)} is a file, not a directory" : $"{Describe(path)} does not exist");
            }

            // Names only (cheap), then the page's entries are stat'ed. The sorted names are kept
            // between the pages of one listing (ListingCursors): one enumeration and sort per listing.
            if (continuationToken is null || !_cursors.TryTake(full, continuationToken, out var names, out var start))
            {
                var collected = new List<string>();
                foreach (var entry in Directory.EnumerateFileSystemEntries(full))
                {
                    var name = Path.GetFileName(entry);
                    if (after is null || UfsNameOrder.Instance.Compare(name, after) > 0) collected.Add(name);
                }

                collected.Sort(UfsNameOrder.Instance);
                names = [.. collected];
                start = 0;
            }

            var page = new List<UfsStatus>(Math.Min(maxEntries, names.Length - start));
            var i = start;
            for (; i < names.Length && page.Count < maxEntries; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var child = Path.Join(full, names[i]);
                if (!WithinRoot(child)) continue; // a link out of the root is not part of the store
                if (StatusOf(child, names[i]) is { } status) page.Add(status); // removed since the enumeration: skipped
            }

            var token = i < names.Length ? TokenPrefix + names[i - 1] : null;
            if (token is not null) _cursors.Put(full, token, names, i);
            return ValueTask.FromResult(new UfsListing(page, token));
        });
    }

    // A token is the last name returned, marked so that a string that never came from us is refused.
    private const string TokenPrefix = "after:";

    private static string ParseToken(string token)
    {
        if (!token.StartsWith(TokenPrefix, StringComparison.Ordinal) || token.Length == TokenPrefix.Length || token.IndexOf('/', TokenPrefix.Length) >= 0)
        {
            throw new UfsException(UfsErrorKind.InvalidArgument, "the continuation token did not come from a listing of this store");
        }

        return token[TokenPrefix.Length..];
    }

    public ValueTask MkdirsAsync(string path, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Run(path, () =>
        {
            var full = Confine(path);
            if (File.Exists(full)) throw new UfsException(UfsErrorKind.AlreadyExists, $"{Describe(path)} exists and is a file");
            Directory.CreateDirectory(full);
            return ValueTask.CompletedTask;
        });
    }

    public ValueTask CreateEmptyFileAsync(string path, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Run(path, () =>
        {
            var full = Confine(path);
            if (path.Length == 0) throw new UfsException(UfsErrorKind.AlreadyExists, "the store root exists");
            if (!Directory.Exists(Path.GetDirectoryName(full))) throw new UfsException(UfsErrorKind.NotFound, $"the parent of {Describe(path)} does not exist");
            if (Directory.Exists(full)) throw new UfsException(UfsErrorKind.AlreadyExists, $"{Describe(path)} already exists");
            try
            {
                using var stream = new FileStream(full, FileMode.CreateNew, FileAccess.Write);
            }
            catch (IOException) when (File.Exists(full))
            {
                throw new UfsException(UfsErrorKind.AlreadyExists, $"{Describe(path)} already exists");
            }

            return ValueTask.CompletedTask;
        });
    }

    public ValueTask<bool> DeleteAsync(string path, bool recursive, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Run(path, () =>
        {
            if (path.Length == 0) throw new UfsException(UfsErrorKind.InvalidArgument, "the store root cannot be deleted");
            var full = Confine(path);
            var info = new FileInfo(full);
            if (info.LinkTarget is not null || File.Exists(full))
            {
                File.Delete(full); // a link is removed itself, never its target
                return ValueTask.FromResult(true);
            }

            if (!Directory.Exists(full)) return ValueTask.FromResult(false);
            if (!recursive && Directory.EnumerateFileSystemEntries(full).Any())
            {
                throw new UfsException(UfsErrorKind.FailedPrecondition, $"{Describe(path)} is a directory that is not empty");
            }

            Directory.Delete(full, recursive);
            return ValueTask.FromResult(true);
        });
    }

    public ValueTask RenameAsync(string source, string destination, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Run(source, () =>
        {
            if (source.Length == 0 || destination.Length == 0) throw new UfsException(UfsErrorKind.InvalidArgument, "the store root cannot be renamed or replaced");
            var from = Confine(source);
            var to = Confine(destination);
            if (File.Exists(to) || Directory.Exists(to)) throw new UfsException(UfsErrorKind.AlreadyExists, $"{Describe(destination)} already exists");
            if (!Directory.Exists(Path.GetDirectoryName(to))) throw new UfsException(UfsErrorKind.NotFound, $"the parent of {Describe(destination)} does not exist");
            if (Directory.Exists(from))
            {
                if ((destination + "/").StartsWith(source + "/", StringComparison.Ordinal))
                {
                    throw new UfsException(UfsErrorKind.InvalidArgument, $"cannot move {Describe(source)} into itself");
                }

                Directory.Move(from, to);
            }
            else if (File.Exists(from))
            {
                File.Move(from, to, overwrite: false);
            }
            else
            {
                throw new UfsException(UfsErrorKind.NotFound, $"{Describe(source)} does not exist");
            }

            return ValueTask.CompletedTask;
        });
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>The absolute local path of a store path, refused when it could leave the root.</summary>
    private string Confine(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0) return _root;
        if (path.StartsWith('/') || path.EndsWith('/'))
        {
            throw new UfsException(UfsErrorKind.InvalidArgument, $"store path '{path}' must be relative without a leading or trailing '/'");
        }

        foreach (var part in path.Split('/'))
        {
            if (part is "" or "." or ".." || part.Contains('\0', StringComparison.Ordinal))
            {
                throw new UfsException(UfsErrorKind.InvalidArgument, $"store path '{path}' has an empty, '.', '..' or NUL component");
            }
        }

        var full = Path.Join(_root, path);

        // Every existing component that is a symbolic link must resolve inside the root.
        var current = _root;
        foreach (var part in path.Split('/'))
        {
            current = Path.Join(current, part);
            if (!WithinRoot(current))
            {
                throw new UfsException(UfsErrorKind.PermissionDenied, $"{Describe(path)} leads outside the store root {_root} through a symbolic link");
            }
        }

        return full;
    }

    /// <summary>False when <paramref name="full"/> is a symbolic link whose final target lies outside the root.</summary>
    private bool WithinRoot(string full)
    {
        FileSystemInfo info = new FileInfo(full);
        if (info.LinkTarget is null) return true;
        var target = info.ResolveLinkTarget(returnFinalTarget: true);
        if (target is null) return false;
        var resolved = Path.GetFullPath(target.FullName);
        return resolved == _root || resolved.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    private static UfsStatus? StatusOf(string full, string name)
    {
        if (Directory.Exists(full))
        {
            var directory = new DirectoryInfo(full);
            return new UfsStatus(name, true, 0, new DateTimeOffset(directory.LastWriteTimeUtc).ToUnixTimeMilliseconds(), "");
        }

        var file = new FileInfo(full);
        if (!file.Exists) return null;
        if (file.LinkTarget is not null && file.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target) file = target;
        var modified = file.LastWriteTimeUtc;

        // Ticks (100 ns) catch a rewrite within the same millisecond that kept the length.
        return new UfsStatus(name, false, file.Length, new DateTimeOffset(modified).ToUnixTimeMilliseconds(), modified.Ticks.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
    }

    private static string NameOf(string path) => path.Length == 0 ? "" : path[(path.LastIndexOf('/') + 1)..];

    private string Describe(string path) => path.Length == 0 ? $"the store root {_root}" : $"'{path}' in {_root}";

    /// <summary>Maps the file system's exceptions to the store's error kinds.</summary>
    private T Run<T>(string path, Func<T> operation)
    {
        try
        {
            return operation();
        }
        catch (UfsException)
        {
            throw;
        }
        catch (UnauthorizedAccessException e)
        {
            throw new UfsException(UfsErrorKind.PermissionDenied, $"{Describe(path)}: permission denied", e);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException)
        {
            throw new UfsException(UfsErrorKind.NotFound, $"{Describe(path)} does not exist", e);
        }
        catch (PathTooLongException e)
        {
            throw new UfsException(UfsErrorKind.InvalidArgument, $"{Describe(path)}: path too long", e);
        }
        catch (IOException e)
        {
            throw new UfsException(UfsErrorKind.Unavailable, $"{Describe(path)}: {e.Message}", e);
        }
    }
}
