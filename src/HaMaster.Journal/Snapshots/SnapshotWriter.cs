namespace HaMaster.Journal;

/// <summary>
/// A snapshot being created. The caller fills <see cref="Directory"/> (not yet existing: a RocksDB
/// checkpoint creates it) and calls <see cref="Commit"/>; <see cref="Abort"/> or Dispose without
/// commit removes everything. Not thread-safe.
/// </summary>
public sealed class SnapshotWriter : IDisposable
{
    private readonly SnapshotStore _store;
    private readonly byte[] _config;
    private bool _done;

    internal SnapshotWriter(SnapshotStore store, string tempDirectory, ulong index, ulong term, byte[] config)
    {
        _store = store;
        TempDirectory = tempDirectory;
        Index = index;
        Term = term;
        _config = config;
    }

    public ulong Index { get; }

    public ulong Term { get; }

    /// <summary>Where the caller puts the snapshot's files; does not exist until the caller creates it.</summary>
    public string Directory => Path.Combine(TempDirectory, SnapshotStore.DataDirectoryName);

    internal string TempDirectory { get; }

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
            foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var name = Path.GetRelativePath(Directory, file).Replace(Path.DirectorySeparatorChar, '/');
                var (length, crc) = SnapshotStore.Checksum(file);
                files.Add(new SnapshotFileEntry(name, length, crc));
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
