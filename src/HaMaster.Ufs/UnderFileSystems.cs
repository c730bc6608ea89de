namespace HaMaster.Ufs;

/// <summary>The connectors a master knows, by URI scheme.</summary>
public sealed class UnderFileSystems
{
    private readonly Dictionary<string, IUnderFileSystemFactory> _factories = new(StringComparer.OrdinalIgnoreCase);

    public UnderFileSystems(IEnumerable<IUnderFileSystemFactory> factories)
    {
        foreach (var factory in factories)
        {
            if (!_factories.TryAdd(factory.Scheme, factory))
            {
                throw new ArgumentException($"two connectors for scheme '{factory.Scheme}'", nameof(factories));
            }
        }
    }

    /// <summary>The schemes served, for error messages and the status page.</summary>
    public IReadOnlyCollection<string> Schemes => _factories.Keys;

    /// <summary>
    /// Parses <paramref name="uri"/> and creates its connector; InvalidArgument names the
    /// unknown scheme or the malformed URI.
    /// </summary>
    public IUnderFileSystem Create(string uri, IReadOnlyDictionary<string, string> properties)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed))
        {
            throw new UfsException(UfsErrorKind.InvalidArgument, $"'{uri}' is not an absolute URI (expected e.g. file:///data or s3://bucket/prefix)");
        }
        if (!_factories.TryGetValue(parsed.Scheme, out var factory))
        {
            throw new UfsException(UfsErrorKind.InvalidArgument,
                $"unknown store scheme '{parsed.Scheme}' in '{uri}' (supported: {string.Join(", ", _factories.Keys.Order())})");
        }
        return factory.Create(parsed, properties);
    }
}
