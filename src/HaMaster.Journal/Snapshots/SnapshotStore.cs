namespace HaMaster.Journal;

/// <summary>
/// Snapshots on disk: <c>snapshot-{index}-{term}/manifest.json</c> plus <c>data/</c> (e.g. a RocksDB
/// checkpoint). Created atomically (build in <c>tmp-*</c> or <c>recv-*</c>, checksum and fsync every
/// file, write the manifest, rename, fsync the parent), listed, streamed in chunks and
/// garbage-collected. Thread-safe; a directory being written is owned by one writer/receiver.
/// <para>
/// A snapshot received from a leader is not published when its last byte arrives: it is
/// <em>staged</em> (<c>received-{index}-{term}</c>, complete and durable but not listed by
/// <see cref="List"/>) until the Raft host installs it, because it becomes this master's truth
/// only together with its log reset and its cluster state. The host records the install durably
/// first (<see cref="RecordInstall"/>), so a crash at any step of the install is finished on restart
/// (<see cref="PendingInstall"/>), and publishes last (<see cref="CompleteInstall"/>).
/// </para>
/// </summary>
public sealed class SnapshotStore
{
    internal const string ManifestFileName = "manifest.json";
    internal const string DataDirectoryName = "data";
    internal const string InstallIntentFileName = "installing.json";
    private const string StagedPrefix = "received-";
    private readonly HashSet<string> _inProgress = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <param name="directory">Root directory of the store (created if missing).</param>
    /// <param name="keepNewest">Snapshots kept by <see cref="CollectGarbage"/> (default 2, at least 1).</param>
    public SnapshotStore(string directory, int keepNewest = 2)
        : this(directory, keepNewest, faults: null)
    {
    }

    /// <summary>As the public constructor, with every file operation going through <paramref name="faults"/> (tests and simulation).</summary>
    internal SnapshotStore(string directory, int keepNewest, IStorageFaults? faults)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keepNewest, 1);
        Directory = Path.GetFullPath(directory);
        KeepNewest = keepNewest;
        Io = new StorageIo(faults);
        Io.CreateDirectory(Directory);
    }

    public string Directory { get; }

    public int KeepNewest { get; }

    internal StorageIo Io { get; }

    /// <summary>The newest committed snapshot (highest index, then term), or null.</summary>
    public SnapshotManifest? Latest => List() is { Count: > 0 } all ? all[^1] : null;

    /// <summary>Committed snapshots, oldest first. Directories without a readable manifest are skipped.</summary>
    public IReadOnlyList<SnapshotManifest> List() => ListWithPrefix("snapshot-", static m => m.DirectoryName);

    /// <summary>Received snapshots staged for installation (complete and durable, not yet published), oldest first.</summary>
    public IReadOnlyList<SnapshotManifest> ListStaged() => ListWithPrefix(StagedPrefix, StagedName);

    /// <summary>True if the snapshot (index, term) is published or staged here: nothing more to receive.</summary>
    public bool Holds(ulong index, ulong term) =>
        List().Any(m => m.Index == index && m.Term == term) || FindStaged(index, term) is not null;

    /// <summary>The staged (received, not yet installed) snapshot (index, term), or null.</summary>
    public SnapshotManifest? FindStaged(ulong index, ulong term) =>
        ListStaged().FirstOrDefault(m => m.Index == index && m.Term == term);

    /// <summary>The directory holding a staged snapshot's files.</summary>
    public string PathOfStaged(SnapshotManifest manifest) => Path.Combine(Directory, StagedName(manifest), DataDirectoryName);

    private static string StagedName(SnapshotManifest m) => $"{StagedPrefix}{m.Index:D20}-{m.Term:D20}";

    private List<SnapshotManifest> ListWithPrefix(string prefix, Func<SnapshotManifest, string> expectedName)
    {
        var result = new List<SnapshotManifest>();
        foreach (var dir in System.IO.Directory.GetDirectories(Directory, prefix + "*"))
        {
            var manifestPath = Path.Combine(dir, ManifestFileName);
            if (!File.Exists(manifestPath))
            {
                continue;
            }
            try
            {
                var manifest = SnapshotManifest.FromBytes(File.ReadAllBytes(manifestPath));
                if (Path.GetFileName(dir) == expectedName(manifest))
                {
                    result.Add(manifest);
                }
            }
            catch (SnapshotIntegrityException)
            {
                // Not ours or damaged; never offered for restore.
            }
        }
        result.Sort((a, b) => a.Index != b.Index ? a.Index.CompareTo(b.Index) : a.Term.CompareTo(b.Term));
        return result;
    }

    /// <summary>The directory holding the snapshot's files.</summary>
    public string PathOf(SnapshotManifest manifest) => Path.Combine(Directory, manifest.DirectoryName, DataDirectoryName);

    /// <summary>
    /// Starts a snapshot: the caller creates its files under <see cref="SnapshotWriter.Directory"/>
    /// (which does not exist yet, as a RocksDB checkpoint requires), then calls <see cref="SnapshotWriter.Commit()"/>.
    /// </summary>
    public SnapshotWriter BeginSnapshot(ulong index, ulong term, ReadOnlyMemory<byte> config)
    {
        var temp = Path.Combine(Directory, $"tmp-{index:D20}-{term:D20}-{Guid.NewGuid():N}");
        Track(temp, add: true); // before it exists: a concurrent CollectGarbage must never see it untracked
        try
        {
            Io.CreateDirectory(temp);
        }
        catch
        {
            Track(temp, add: false);
            throw;
        }

        return new SnapshotWriter(this, temp, index, term, config.ToArray());
    }

    /// <summary>Opens a committed snapshot for chunked streaming to a follower.</summary>
    public SnapshotReader OpenForStreaming(SnapshotManifest manifest, int chunkBytes = 1 << 20)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, 1);
        var dataDirectory = PathOf(manifest);
        if (!System.IO.Directory.Exists(Path.Combine(Directory, manifest.DirectoryName)))
        {
            throw new FileNotFoundException($"Snapshot {manifest} is not in the store (collected?).", dataDirectory);
        }
        return new SnapshotReader(manifest, dataDirectory, chunkBytes);
    }

    /// <summary>
    /// Starts (or resumes) receiving the snapshot described by <paramref name="header"/>. A partial
    /// receive of the same snapshot left by an earlier attempt is continued from
    /// <see cref="SnapshotReceiver.ResumeFile"/>/<see cref="SnapshotReceiver.ResumeOffset"/>.
    /// </summary>
    public SnapshotReceiver BeginReceive(SnapshotManifest header)
    {
        ArgumentNullException.ThrowIfNull(header);
        foreach (var file in header.Files)
        {
            SnapshotManifest.ValidateName(file.Name);
        }
        var path = Path.Combine(Directory, $"recv-{header.Index:D20}-{header.Term:D20}");
        if (!Track(path, add: true))
        {
            throw new InvalidOperationException($"{header} is already being received into '{path}'; dispose that receiver first.");
        }
        try
        {
            return new SnapshotReceiver(this, path, header);
        }
        catch
        {
            Track(path, add: false);
            throw;
        }
    }

    /// <summary>
    /// Keeps the newest <see cref="KeepNewest"/> published snapshots and <paramref name="protect"/> (the
    /// snapshot the Raft log points at, whatever its rank); deletes older ones, abandoned temp
    /// directories, partial receives at or below the newest snapshot, and staged snapshots that are not
    /// being installed and are either at or below the newest snapshot or superseded by a newer staged
    /// one. Returns the number of directories removed.
    /// </summary>
    public int CollectGarbage(SnapshotManifest? protect = null)
    {
        var removed = 0;
        var all = List();
        foreach (var old in all.Take(Math.Max(0, all.Count - KeepNewest)))
        {
            if (protect is not null && old.Index == protect.Index && old.Term == protect.Term)
            {
                continue;
            }
            DeleteDirectory(Path.Combine(Directory, old.DirectoryName));
            removed++;
        }
        var latestIndex = all.Count > 0 ? all[^1].Index : 0;
        var installing = PendingInstall;
        var staged = ListStaged();
        for (var i = 0; i < staged.Count; i++)
        {
            var m = staged[i];
            if (installing is not null && installing.Index == m.Index && installing.Term == m.Term)
            {
                continue;
            }
            if (m.Index <= latestIndex || i < staged.Count - 1)
            {
                DeleteDirectory(Path.Combine(Directory, StagedName(m)));
                removed++;
            }
        }
        foreach (var dir in System.IO.Directory.GetDirectories(Directory))
        {
            var name = Path.GetFileName(dir);
            bool busy;
            lock (_lock)
            {
                busy = _inProgress.Contains(dir);
            }
            if (busy)
            {
                continue;
            }
            var stale = name.StartsWith("tmp-", StringComparison.Ordinal)
                || (name.StartsWith("recv-", StringComparison.Ordinal) && ulong.TryParse(name.AsSpan(5, Math.Min(20, name.Length - 5)), out var index) && index <= latestIndex);
            if (stale)
            {
                DeleteDirectory(dir);
                removed++;
            }
        }
        if (removed > 0)
        {
            Io.SyncDirectory(Directory);
        }
        return removed;
    }

    /// <summary>
    /// The snapshot whose install was recorded by <see cref="RecordInstall"/> and not yet completed
    /// by <see cref="CompleteInstall"/> (a crash interrupted it), or null.
    /// </summary>
    public SnapshotManifest? PendingInstall
    {
        get
        {
            var path = Path.Combine(Directory, InstallIntentFileName);
            if (!File.Exists(path))
            {
                return null;
            }
            try
            {
                return SnapshotManifest.FromBytes(File.ReadAllBytes(path));
            }
            catch (SnapshotIntegrityException e)
            {
                // Written atomically (temp file, fsync, rename): damage here is not a crash artifact.
                throw new SnapshotIntegrityException($"The install intent '{path}' is damaged ({e.Message}); this master cannot tell which snapshot it was installing. Restore it from a backup or remove and re-add it.");
            }
        }
    }

    /// <summary>
    /// Records durably that the staged snapshot is being installed: from now on a restart finishes
    /// the install (<see cref="PendingInstall"/>) instead of forgetting it. The snapshot must be staged.
    /// </summary>
    public void RecordInstall(SnapshotManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (FindStaged(manifest.Index, manifest.Term) is null && !List().Any(m => m.Index == manifest.Index && m.Term == manifest.Term))
        {
            throw new InvalidOperationException($"{manifest} is neither staged nor published: it cannot be installed.");
        }
        Io.WriteFileAtomically(Path.Combine(Directory, InstallIntentFileName), manifest.ToBytes());
    }

    /// <summary>
    /// Where an installing snapshot's files are: staged, or already published (a crash between
    /// <see cref="CompleteInstall"/>'s rename and its removal of the intent).
    /// </summary>
    public string PathForInstall(SnapshotManifest manifest)
    {
        if (FindStaged(manifest.Index, manifest.Term) is not null)
        {
            return PathOfStaged(manifest);
        }
        if (List().Any(m => m.Index == manifest.Index && m.Term == manifest.Term))
        {
            return PathOf(manifest);
        }
        throw new InvalidOperationException($"{manifest} is neither staged nor published in '{Directory}'.");
    }

    /// <summary>
    /// Publishes the installed snapshot (staged -> <c>snapshot-*</c>; a no-op if a snapshot with the same
    /// index and term is published already, e.g. this master's own) and removes the install intent, in
    /// that order, each step durable. Idempotent.
    /// </summary>
    public void CompleteInstall(SnapshotManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var staged = Path.Combine(Directory, StagedName(manifest));
        var final = Path.Combine(Directory, manifest.DirectoryName);
        if (System.IO.Directory.Exists(staged))
        {
            if (System.IO.Directory.Exists(final))
            {
                DeleteDirectory(staged);
            }
            else
            {
                Io.Rename(staged, final);
            }
            Io.SyncDirectory(Directory);
        }
        var intent = Path.Combine(Directory, InstallIntentFileName);
        if (File.Exists(intent))
        {
            File.Delete(intent);
            Io.SyncDirectory(Directory);
        }
    }

    /// <summary>Moves a completely received directory to its staged name and makes that durable.</summary>
    internal SnapshotManifest Stage(string source, SnapshotManifest manifest)
    {
        var staged = Path.Combine(Directory, StagedName(manifest));
        if (System.IO.Directory.Exists(staged) || System.IO.Directory.Exists(Path.Combine(Directory, manifest.DirectoryName)))
        {
            throw new InvalidOperationException($"The store already holds {manifest}.");
        }
        Io.WriteFileAtomically(Path.Combine(source, ManifestFileName), manifest.ToBytes());
        Io.Rename(source, staged);
        Io.SyncDirectory(Directory);
        return manifest;
    }

    /// <summary>Marks a directory as owned by a live writer/receiver (skipped by GC); false if it already was.</summary>
    internal bool Track(string path, bool add)
    {
        lock (_lock)
        {
            return add ? _inProgress.Add(path) : _inProgress.Remove(path);
        }
    }

    /// <summary>fsyncs every file and directory under <paramref name="root"/> (files first, then directories bottom-up).</summary>
    internal void SyncTree(string root)
    {
        foreach (var file in System.IO.Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            using var handle = File.OpenHandle(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            Io.SyncData(handle, file);
        }
        foreach (var dir in System.IO.Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length))
        {
            Io.SyncDirectory(dir);
        }
        Io.SyncDirectory(root);
    }

    /// <summary>Moves a finished directory to its final name and makes that durable.</summary>
    internal SnapshotManifest Publish(string source, SnapshotManifest manifest)
    {
        var final = Path.Combine(Directory, manifest.DirectoryName);
        if (System.IO.Directory.Exists(final))
        {
            throw new InvalidOperationException($"The store already holds {manifest} at '{final}'.");
        }
        Io.WriteFileAtomically(Path.Combine(source, ManifestFileName), manifest.ToBytes());
        Io.Rename(source, final);
        Io.SyncDirectory(Directory);
        return manifest;
    }

    internal static void DeleteDirectory(string path)
    {
        if (System.IO.Directory.Exists(path))
        {
            System.IO.Directory.Delete(path, recursive: true);
        }
    }

    /// <summary>Length and CRC-32C of a file, read in 1 MiB blocks.</summary>
    internal static (long Length, uint Crc) Checksum(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var buffer = new byte[1 << 20];
        long offset = 0;
        var state = ~0u;
        int n;
        while ((n = RandomAccess.Read(handle, buffer, offset)) > 0)
        {
            state = Crc32C.Update(state, buffer.AsSpan(0, n));
            offset += n;
        }
        return (offset, ~state);
    }
}
