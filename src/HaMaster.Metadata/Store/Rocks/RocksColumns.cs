using HaMaster.Rocks;

namespace HaMaster.Metadata.Store.Rocks;

/// <summary>The column families of the metadata database (the on-disk and snapshot format).</summary>
internal sealed class RocksColumns
{
    public const string InodesName = "inodes";
    public const string EdgesName = "edges";
    public const string BlocksName = "blocks";
    public const string LocationsName = "locations";
    public const string WorkerBlocksName = "worker_blocks";
    public const string WorkersName = "workers";
    public const string WorkerAddressesName = "worker_addresses";
    public const string SessionsName = "sessions";
    public const string TtlBucketsName = "ttl_buckets";

    public static readonly IReadOnlyList<string> All =
        [InodesName, EdgesName, BlocksName, LocationsName, WorkerBlocksName, WorkersName, WorkerAddressesName, SessionsName, TtlBucketsName];

    /// <summary>Key of the StateRecord in the default column family.</summary>
    public static readonly byte[] StateKey = "state"u8.ToArray();

    /// <summary>Key of the MountTableRecord in the default column family (absent = no mounts).</summary>
    public static readonly byte[] MountsKey = "mounts"u8.ToArray();

    public RocksColumns(RocksDb db)
    {
        Default = db.DefaultColumnFamily;
        Inodes = db.GetColumnFamily(InodesName);
        Edges = db.GetColumnFamily(EdgesName);
        Blocks = db.GetColumnFamily(BlocksName);
        Locations = db.GetColumnFamily(LocationsName);
        WorkerBlocks = db.GetColumnFamily(WorkerBlocksName);
        Workers = db.GetColumnFamily(WorkersName);
        WorkerAddresses = db.GetColumnFamily(WorkerAddressesName);
        Sessions = db.GetColumnFamily(SessionsName);
        TtlBuckets = db.GetColumnFamily(TtlBucketsName);
    }

    public ColumnFamily Default { get; }

    public ColumnFamily Inodes { get; }

    public ColumnFamily Edges { get; }

    public ColumnFamily Blocks { get; }

    public ColumnFamily Locations { get; }

    public ColumnFamily WorkerBlocks { get; }

    public ColumnFamily Workers { get; }

    public ColumnFamily WorkerAddresses { get; }

    public ColumnFamily Sessions { get; }

    public ColumnFamily TtlBuckets { get; }
}
