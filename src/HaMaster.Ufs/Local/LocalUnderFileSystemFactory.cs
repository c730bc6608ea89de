namespace HaMaster.Ufs.Local;

/// <summary>
/// <c>file:///absolute/dir</c>: a directory on the master's machine (every master must see the
/// same content at that path, e.g. a shared or replicated file system). No properties.
/// </summary>
public sealed class LocalUnderFileSystemFactory : IUnderFileSystemFactory
{
    public string Scheme => "file";

    public IUnderFileSystem Create(Uri root, IReadOnlyDictionary<string, string> properties)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(properties);
        if (!string.Equals(root.Scheme, Scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw new UfsException(UfsErrorKind.InvalidArgument, $"'{root}' is not a file:// URI");
        }

        if (root.Host.Length > 0 && !string.Equals(root.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            throw new UfsException(UfsErrorKind.InvalidArgument, $"'{root}': file:// URIs name a local directory (file:///dir), not host '{root.Host}'");
        }

        if (root.Query.Length > 0 || root.Fragment.Length > 0)
        {
            throw new UfsException(UfsErrorKind.InvalidArgument, $"'{root}': a file:// URI may not have a query or fragment");
        }

        foreach (var key in properties.Keys)
        {
            throw new UfsException(UfsErrorKind.InvalidArgument, $"file:// mounts take no options (got '{key}')");
        }

        var path = root.LocalPath;
        if (!Path.IsPathFullyQualified(path))
        {
            throw new UfsException(UfsErrorKind.InvalidArgument, $"'{root}' does not name an absolute directory");
        }

        foreach (var part in path.Split('/'))
        {
            if (part is "." or "..")
            {
                throw new UfsException(UfsErrorKind.InvalidArgument, $"'{root}' may not contain '.' or '..'");
            }
        }

        return new LocalUnderFileSystem(root, Path.TrimEndingDirectorySeparator(Path.GetFullPath(path)));
    }
}
