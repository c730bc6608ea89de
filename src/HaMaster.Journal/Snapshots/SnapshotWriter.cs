namespace HaMaster.Journal;

/// <summary>
/// A snapshot being created. The caller fills <see cref="Directory"/> (not yet existing: a RocksDB
/// checkpoint creates it) and calls <see cref="Commit()"/>; <see cref="Abort"/> or Dispose without
/// commit removes everything. Not thread-safe.
/// </summary>
public sealed class SnapshotWriter : IDisposable
{
    private readonly SnapshotStore _store;
    private byte[] _config;
    private bool _done;

    internal SnapshotWriter(SnapshotStore store, string tempDirectory, ulong index, ulong term, byte[] config)
    {
        _store = store;
        TempDirectory = tempDirectory;
        Index = index;
        Term = term;
        _config = config;
    }

    public ulong Index { get; private set; }

    public ulong Term { get; private set; }

    /// <summary>Where the caller puts the snapshot's files; does not exist until the caller creates it.</summary>
    public string Directory => Path.Combine(TempDirectory, SnapshotStore.DataDirectoryName);

    internal string TempDirectory { get; }

    /// <summary>
    /// Commits the snapshot at a position learned only once its files were written (a checkpoint of a
    /// store that kept applying meanwhile says which index it holds): see <see cref="Commit()"/>.
    /// </summary>
    public SnapshotManifest Commit(ulong index, ulong term, ReadOnlyMemory<byte> config)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        Index = index;
        Term = term;
        _config = config.ToArray();
        return Commit();
    }

    /// <summary>
    /// Checksums and fsyncs every file under <see cref="Directory"/>, writes the manifest, renames the
    /// temp directory to its final name and fsyncs the store directory. Returns the manifest.
    /// </summary>
    public SnapshotManifest Commit()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        try
        {
            _store.Io.CreateDirectory(Directory);
            var files = new List<SnapshotFileEntry>();
            var previous = PreviousChecksums();
            foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var name = Path.GetRelativePath(Directory, file).Replace(Path.DirectorySeparatorChar, '/');
                files.Add(previous.TryReuse(name, file, out var known) ? known : Checksummed(name, file));
            }
            _store.SyncTree(TempDirectory);
            var manifest = new SnapshotManifest(Index, Term, _config, files, DateTimeOffset.UtcNow);
            _store.Publish(TempDirectory, manifest);
            _done = true;
            _store.Track(TempDirectory, add: false);
            return manifest;
        }
        catch
        {
            Abort();
            throw;
        }
    }

    private static SnapshotFileEntry Checksummed(string name, string file)
    {
        var (length, crc) = SnapshotStore.Checksum(file);
        return new SnapshotFileEntry(name, length, crc);
    }

    private KnownFiles PreviousChecksums()
    {
        try
        {
            return _store.Latest is { } latest ? new KnownFiles(_store.PathOf(latest), latest.Files.ToDictionary(f => f.Name, StringComparer.Ordinal)) : KnownFiles.None;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or System.Text.Json.JsonException)
        {
            return KnownFiles.None; // no reuse: checksum everything
        }
    }

    /// <summary>
    /// Checksums of the previous snapshot's files. A RocksDB checkpoint hard-links the immutable SST
    /// files, so most of a new snapshot is the very same files as the last one: an SST with the same
    /// name, length and modification time as in the previous snapshot is the same inode, and its
    /// checksum is reused instead of re-reading it (snapshots cost O(new data), not O(database)).
    /// Every other file (MANIFEST, WAL, OPTIONS, CURRENT) is always checksummed.
    /// </summary>
    private sealed class KnownFiles(string directory, Dictionary<string, SnapshotFileEntry> entries)
    {
        public static readonly KnownFiles None = new("", []);

        public bool TryReuse(string name, string file, out SnapshotFileEntry entry)
        {
            entry = null!;
            if (!name.EndsWith(".sst", StringComparison.Ordinal) || !entries.TryGetValue(name, out var known)) return false;
            var current = new FileInfo(file);
            var old = new FileInfo(Path.Combine(directory, name));
            if (!old.Exists || current.Length != known.Length || old.Length != known.Length || current.LastWriteTimeUtc != old.LastWriteTimeUtc) return false;
            entry = known;
            return true;
        }
    }

    /// <summary>Discards the snapshot being written.</summary>
    public void Abort()
    {
        if (_done)
        {
            return;
        }
        _done = true;
        SnapshotStore.DeleteDirectory(TempDirectory);
        _store.Track(TempDirectory, add: false);
    }

    public void Dispose() => Abort();
}
