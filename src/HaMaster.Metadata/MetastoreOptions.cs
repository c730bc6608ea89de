using HaMaster.Rocks;

namespace HaMaster.Metadata;

/// <summary>Where the metadata lives.</summary>
public enum MetastoreKind
{
    /// <summary>RocksDB on disk (the default): the namespace may exceed memory.</summary>
    Rocks,

    /// <summary>On-heap dictionaries: fastest, memory grows with the namespace, nothing survives a
    /// restart (the Raft log/snapshot rebuilds it). Snapshots use the RocksDB format.</summary>
    Heap,
}

/// <summary>Local (not replicated) configuration of the metastore. Nothing here may change the result
/// of applying an entry: it only decides storage and caching.</summary>
public sealed record MetastoreOptions
{
    /// <summary>Store kind. Default <see cref="MetastoreKind.Rocks"/>.</summary>
    public MetastoreKind Kind { get; init; } = MetastoreKind.Rocks;

    /// <summary>Entries of the inode cache in front of RocksDB (the edge cache has the same bound);
    /// 0 = no cache. Default 200,000 (roughly 60-100 MB of heap). Ignored for Heap.</summary>
    public int InodeCacheMaxEntries { get; init; } = 200_000;

    /// <summary>Client sessions (exactly-once records) cached in front of RocksDB, write-through; 0 = no
    /// cache. Every write reads its session, so this saves a RocksDB lookup per write. Default 65,536
    /// (a few hundred bytes each). Ignored for Heap, which holds every session anyway.</summary>
    public int SessionCacheMaxEntries { get; init; } = 65_536;

    /// <summary>RocksDB tuning. Default: <see cref="RocksDbOptions"/> defaults.</summary>
    public RocksDbOptions RocksDb { get; init; } = new();

    /// <summary>Page size of ListStatus when the request says 0. Default 1,000 entries.</summary>
    public int DefaultListLimit { get; init; } = 1000;

    /// <summary>Largest ListStatus page (bounds how long one page holds the read lock). Default 10,000.</summary>
    public int MaxListLimit { get; init; } = 10_000;

    /// <summary>Throws <see cref="ArgumentException"/> when a value is out of range.</summary>
    public MetastoreOptions Validate()
    {
        if (!Enum.IsDefined(Kind))
        {
            throw new ArgumentException($"Kind {Kind} is not a metastore kind.");
        }

        if (InodeCacheMaxEntries < 0)
        {
            throw new ArgumentException($"InodeCacheMaxEntries must be >= 0 (0 = no cache), got {InodeCacheMaxEntries}.");
        }

        if (SessionCacheMaxEntries < 0)
        {
            throw new ArgumentException($"SessionCacheMaxEntries must be >= 0 (0 = no cache), got {SessionCacheMaxEntries}.");
        }

        if (MaxListLimit < 1 || DefaultListLimit < 1 || DefaultListLimit > MaxListLimit)
        {
            throw new ArgumentException($"List limits must satisfy 1 <= DefaultListLimit ({DefaultListLimit}) <= MaxListLimit ({MaxListLimit}).");
        }

        ArgumentNullException.ThrowIfNull(RocksDb);
        RocksDb.Validate();
        return this;
    }
}
