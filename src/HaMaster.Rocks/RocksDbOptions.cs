namespace HaMaster.Rocks;

/// <summary>Block compression of SST files.</summary>
public enum RocksCompression
{
    None,
    Snappy,
    Lz4,
    Zstd,
}

/// <summary>
/// How a database is opened. Immutable; <see cref="Validate"/> is called by
/// <see cref="RocksDb.Open"/>. Every column family is opened with the same options.
/// </summary>
public sealed record RocksDbOptions
{
    /// <summary>Create the database when the directory holds none. Default true.
    /// Use false to open a checkpoint or an existing store (a missing one is then an error).</summary>
    public bool CreateIfMissing { get; init; } = true;

    /// <summary>LRU block cache capacity in bytes, shared by all column families; 0 disables the cache. Default 64 MiB.</summary>
    public long BlockCacheBytes { get; init; } = 64L << 20;

    /// <summary>Bloom filter bits per key (full filters); 0 = no filter. Default 10 (about 1% false positives). At most 64.</summary>
    public int BloomBitsPerKey { get; init; } = 10;

    /// <summary>
    /// Index and filter blocks live in the block cache, partitioned (two-level index, partitioned
    /// filters; the top levels and level-0's blocks pinned), so their memory is bounded by
    /// <see cref="BlockCacheBytes"/>. Off, RocksDB keeps every open SST file's whole index and filter
    /// in memory outside the cache: about 1.25 bytes per key at 10 bloom bits, which grows with the
    /// data (issue 19: RSS 0.9 GiB at 77 M inodes). Default true; ignored when the cache is disabled.
    /// </summary>
    public bool IndexAndFiltersInCache { get; init; } = true;

    /// <summary>SST block compression. Default LZ4. All four are compiled into the librocksdb the RocksDB package ships.</summary>
    public RocksCompression Compression { get; init; } = RocksCompression.Lz4;

    /// <summary>Maximum open SST files; -1 = unlimited (RocksDB's default). Otherwise at least 16.</summary>
    public int MaxOpenFiles { get; init; } = -1;

    /// <summary>Memtable size in bytes per column family before it is flushed. Default 64 MiB; at least 64 KiB.</summary>
    public long WriteBufferBytes { get; init; } = 64L << 20;

    /// <summary>Fixed-length prefix extractor in bytes, enabling prefix bloom filters and
    /// prefix-same-as-start iteration; null = none. Default null.</summary>
    public int? FixedPrefixLength { get; init; }

    /// <summary>Background flush and compaction threads. Default 2; 1..64.</summary>
    public int MaxBackgroundJobs { get; init; } = 2;

    /// <summary>Extra consistency checks on open and during compaction (RocksDB paranoid_checks). Default true.</summary>
    public bool ParanoidChecks { get; init; } = true;

    /// <summary>How many RocksDB info LOG files to keep in the database directory. Default 3.</summary>
    public int KeepLogFiles { get; init; } = 3;

    /// <summary>
    /// Size of a whole-key bloom filter over each memtable, as a fraction of <see cref="WriteBufferBytes"/>
    /// (RocksDB memtable_prefix_bloom_size_ratio with memtable_whole_key_filtering). A point lookup of a
    /// key the memtable does not hold - every existence check of a new name - then skips the skip-list
    /// search. Default 0.02 (1.3 MiB per 64 MiB memtable); 0 disables it; at most 0.25.
    /// </summary>
    public double MemtableBloomRatio { get; init; } = 0.02;

    /// <summary>
    /// Block-based table format_version of the SST files written. Default 5, RocksDB 7.8's default
    /// and the newest it reads: with it, masters still on the RocksDB 7.8 build (HaMaster before the
    /// RocksDB package) can open SST files and snapshots written by this build, so a rolling upgrade
    /// can install snapshots in both directions and be rolled back. RocksDB 11's own default (7) is
    /// refused by 7.8 ("Corrupt or unsupported format_version"). Raise it only once every master runs
    /// this build. 2..7.
    /// </summary>
    public int SstFormatVersion { get; init; } = 5;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting and why.</summary>
    public void Validate()
    {
        if (BlockCacheBytes < 0)
        {
            throw new ArgumentException($"BlockCacheBytes must be >= 0 (0 disables the cache), was {BlockCacheBytes}.", nameof(BlockCacheBytes));
        }

        if (!(MemtableBloomRatio is >= 0 and <= 0.25))
        {
            throw new ArgumentException($"MemtableBloomRatio must be 0..0.25 (0 = no memtable bloom filter), was {MemtableBloomRatio}.", nameof(MemtableBloomRatio));
        }

        if (BloomBitsPerKey is < 0 or > 64)
        {
            throw new ArgumentException($"BloomBitsPerKey must be 0..64 (0 = no bloom filter), was {BloomBitsPerKey}.", nameof(BloomBitsPerKey));
        }

        if (!Enum.IsDefined(Compression))
        {
            throw new ArgumentException($"Compression {(int)Compression} is not a RocksCompression value.", nameof(Compression));
        }

        if (MaxOpenFiles != -1 && MaxOpenFiles < 16)
        {
            throw new ArgumentException($"MaxOpenFiles must be -1 (unlimited) or >= 16, was {MaxOpenFiles}.", nameof(MaxOpenFiles));
        }

        if (WriteBufferBytes < 64L << 10)
        {
            throw new ArgumentException($"WriteBufferBytes must be >= 64 KiB, was {WriteBufferBytes}.", nameof(WriteBufferBytes));
        }

        if (FixedPrefixLength is { } prefix && prefix <= 0)
        {
            throw new ArgumentException($"FixedPrefixLength must be > 0 or null, was {prefix}.", nameof(FixedPrefixLength));
        }

        if (MaxBackgroundJobs is < 1 or > 64)
        {
            throw new ArgumentException($"MaxBackgroundJobs must be 1..64, was {MaxBackgroundJobs}.", nameof(MaxBackgroundJobs));
        }

        if (SstFormatVersion is < 2 or > 7)
        {
            throw new ArgumentException($"SstFormatVersion must be 2..7, was {SstFormatVersion}.", nameof(SstFormatVersion));
        }

        if (KeepLogFiles < 1)
        {
            throw new ArgumentException($"KeepLogFiles must be >= 1, was {KeepLogFiles}.", nameof(KeepLogFiles));
        }
    }

    /// <summary>RocksDB's numeric compression type (enum in c.h).</summary>
    internal int NativeCompression => Compression switch
    {
        RocksCompression.None => 0,
        RocksCompression.Snappy => 1,
        RocksCompression.Lz4 => 4,
        RocksCompression.Zstd => 7,
        _ => throw new ArgumentOutOfRangeException(nameof(Compression)),
    };
}
