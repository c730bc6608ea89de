using RocksDbSharp;

namespace HaMaster.Rocks;

/// <summary>
/// A column family of one open <see cref="RocksDb"/>. Owned by that database: it becomes
/// invalid (operations throw <see cref="ObjectDisposedException"/>) once the database is disposed.
/// Thread-safe (an immutable reference to RocksDbSharp's handle).
/// </summary>
public sealed class ColumnFamily
{
    internal ColumnFamily(RocksDb owner, string name, ColumnFamilyHandle handle)
    {
        Owner = owner;
        Name = name;
        Handle = handle;
    }

    /// <summary>The column family name ("default" for the default one).</summary>
    public string Name { get; }

    internal RocksDb Owner { get; }

    /// <summary>RocksDbSharp's handle; use only under a lease on <see cref="Owner"/>.</summary>
    internal ColumnFamilyHandle Handle { get; }

    public override string ToString() => Name;
}
