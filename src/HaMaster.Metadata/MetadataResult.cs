using HaMaster.Protos.V1;

namespace HaMaster.Metadata;

/// <summary>The outcome of a read: a status (mapped 1:1 to gRPC codes by the server), the reason
/// when it is not OK, and the value when it is.</summary>
public readonly record struct MetadataResult<T>(MetadataStatus Status, string Message, T? Value)
    where T : class
{
    public bool IsOk => Status == MetadataStatus.Ok;
}

/// <summary>Factories of <see cref="MetadataResult{T}"/>.</summary>
public static class MetadataResult
{
    public static MetadataResult<T> Ok<T>(T value)
        where T : class => new(MetadataStatus.Ok, string.Empty, value);

    public static MetadataResult<T> Fail<T>(MetadataStatus status, string message)
        where T : class => new(status, message, null);
}

/// <summary>Counters for the status page.</summary>
public readonly record struct MetadataCounts(ulong Inodes, ulong Blocks, ulong Workers);

/// <summary>Hit/miss counters of the inode cache (all zero when there is none).</summary>
public readonly record struct InodeCacheStatistics(long Hits, long Misses, int Entries);
