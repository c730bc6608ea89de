using RocksDbSharp;
using SharpDb = RocksDbSharp.RocksDb;

namespace HaMaster.Rocks;

/// <summary>
/// The column families of one open <see cref="RocksDb"/>: which names are opened, lookup by name,
/// and the check that a <see cref="ColumnFamily"/> passed to a call belongs to this database.
/// Immutable after construction; safe from any thread.
/// </summary>
internal sealed class ColumnFamilySet
{
    private readonly RocksDb _owner;
    private readonly Dictionary<string, ColumnFamily> _byName = new(StringComparer.Ordinal);
    private readonly ColumnFamily[] _all;

    public ColumnFamilySet(RocksDb owner, SharpDb db, string[] names)
    {
        _owner = owner;
        _all = new ColumnFamily[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            var cf = new ColumnFamily(owner, names[i], db.GetColumnFamily(names[i]));
            _byName.Add(names[i], cf);
            _all[i] = cf;
        }

        Default = _byName[RocksDb.DefaultColumnFamilyName];
    }

    /// <summary>The "default" column family.</summary>
    public ColumnFamily Default { get; }

    /// <summary>Every open column family, in the order opened ("default" first).</summary>
    public IReadOnlyList<ColumnFamily> All => _all;

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <exception cref="KeyNotFoundException">The database was not opened with that column family.</exception>
    public ColumnFamily Get(string name)
    {
        if (_byName.TryGetValue(name, out var cf))
        {
            return cf;
        }

        throw new KeyNotFoundException(
            $"Column family '{name}' is not open in RocksDB at {_owner.Path} (open: {string.Join(", ", _byName.Keys)}); pass it to RocksDb.Open to create it.");
    }

    /// <summary>RocksDbSharp's handle of <paramref name="cf"/> (default when null); checks it belongs to this database.</summary>
    public ColumnFamilyHandle HandleOf(ColumnFamily? cf)
    {
        if (cf is null)
        {
            return Default.Handle;
        }

        if (!ReferenceEquals(cf.Owner, _owner))
        {
            throw new ArgumentException($"Column family '{cf.Name}' belongs to another database ({cf.Owner.Path}).", nameof(cf));
        }

        return cf.Handle;
    }

    /// <summary>
    /// The names to open at <paramref name="fullPath"/>: "default", every column family the database
    /// already has (so a checkpoint always opens whole), then <paramref name="requested"/>; no repeats.
    /// </summary>
    public static string[] NamesToOpen(string fullPath, IReadOnlyList<string>? requested)
    {
        var names = new List<string> { RocksDb.DefaultColumnFamilyName };
        if (File.Exists(System.IO.Path.Combine(fullPath, "CURRENT"))
            && SharpDb.TryListColumnFamilies(new DbOptions(), fullPath, out var existing))
        {
            // Unreadable metadata (TryList false): the open below reports the real error.
            names.AddRange(existing);
        }

        foreach (var name in requested ?? [])
        {
            ArgumentException.ThrowIfNullOrEmpty(name, nameof(requested));
            names.Add(name);
        }

        return [.. names.Distinct(StringComparer.Ordinal)];
    }
}
