using Microsoft.Win32.SafeHandles;

namespace HaMaster.Journal;

/// <summary>
/// The receiving side of a snapshot transfer. Chunks are written at their offsets: a resent chunk
/// that was already written is ignored, a chunk whose CRC does not match its data is rejected before
/// anything is written, and a chunk beyond what was received (a gap) is refused. <see cref="Commit"/>
/// verifies every file's length and CRC-32C against the manifest and stages the snapshot
/// atomically (see <see cref="SnapshotStore"/>: the Raft host publishes it when it installs it). The partial directory survives a crash or <see cref="Dispose"/>, so a later
/// <see cref="SnapshotStore.BeginReceive"/> of the same snapshot resumes. Not thread-safe.
/// </summary>
public sealed class SnapshotReceiver : IDisposable
{
    private readonly SnapshotStore _store;
    private readonly string _directory;
    private readonly long[] _received;
    private readonly Dictionary<string, int> _ordinals = new(StringComparer.Ordinal);
    private SafeFileHandle? _handle;
    private int _handleFile = -1;
    private bool _done;

    internal SnapshotReceiver(SnapshotStore store, string directory, SnapshotManifest manifest)
    {
        _store = store;
        _directory = directory;
        Manifest = manifest;
        _received = new long[manifest.Files.Count];
        for (var i = 0; i < manifest.Files.Count; i++)
        {
            _ordinals[manifest.Files[i].Name] = i;
        }
        var headerPath = Path.Combine(directory, "receiving.json");
        var resumable = false;
        if (File.Exists(headerPath))
        {
            try
            {
                resumable = SnapshotManifest.FromBytes(File.ReadAllBytes(headerPath)).SameContentAs(manifest);
            }
            catch (SnapshotIntegrityException)
            {
                resumable = false;
            }
        }
        if (resumable)
        {
            for (var i = 0; i < manifest.Files.Count; i++)
            {
                var path = DataPath(manifest.Files[i].Name);
                _received[i] = File.Exists(path) ? Math.Min(new FileInfo(path).Length, manifest.Files[i].Length) : 0;
            }
            Resumed = true;
        }
        else
        {
            SnapshotStore.DeleteDirectory(directory);
            store.Io.CreateDirectory(Path.Combine(directory, SnapshotStore.DataDirectoryName));
            store.Io.WriteFileAtomically(headerPath, manifest.ToBytes());
        }
    }

    public SnapshotManifest Manifest { get; }

    /// <summary>True when an earlier partial receive of the same snapshot was found and continued.</summary>
    public bool Resumed { get; }

    /// <summary>Bytes received so far (all files).</summary>
    public long ReceivedBytes => _received.Sum();

    /// <summary>True when every file has all its bytes.</summary>
    public bool IsComplete => ResumeOrdinal < 0;

    /// <summary>File the sender should continue with (<see cref="SnapshotReader.Seek"/>), or null when complete.</summary>
    public string? ResumeFile => ResumeOrdinal is var i and >= 0 ? Manifest.Files[i].Name : null;

    /// <summary>Offset in <see cref="ResumeFile"/> to continue from.</summary>
    public long ResumeOffset => ResumeOrdinal is var i and >= 0 ? _received[i] : 0;

    private int ResumeOrdinal
    {
        get
        {
            for (var i = 0; i < _received.Length; i++)
            {
                if (_received[i] < Manifest.Files[i].Length)
                {
                    return i;
                }
            }
            return -1;
        }
    }

    /// <summary>Writes one chunk (see the class remarks for resend, corruption and gap handling).</summary>
    public void WriteChunk(in SnapshotChunk chunk)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        if (!_ordinals.TryGetValue(chunk.FileName, out var ordinal))
        {
            throw new ArgumentException($"Chunk for '{chunk.FileName}', which is not in {Manifest}.");
        }
        var data = chunk.Data.Span;
        if (Crc32C.Compute(data) != chunk.Crc32C)
        {
            throw new SnapshotIntegrityException($"Chunk of '{chunk.FileName}' at offset {chunk.Offset} ({data.Length} bytes) failed its checksum: damaged in transit; nothing was written, resend it.");
        }
        var expectedLength = Manifest.Files[ordinal].Length;
        if (chunk.Offset < 0 || chunk.Offset + data.Length > expectedLength)
        {
            throw new SnapshotIntegrityException($"Chunk of '{chunk.FileName}' at offset {chunk.Offset} ({data.Length} bytes) exceeds the file's length {expectedLength} in the manifest.");
        }
        var have = _received[ordinal];
        if (chunk.Offset > have)
        {
            throw new InvalidOperationException($"Chunk of '{chunk.FileName}' at offset {chunk.Offset} leaves a gap: only {have} bytes received; resume from there.");
        }
        var fresh = data[(int)(have - chunk.Offset)..];
        var handle = HandleFor(ordinal);
        if (fresh.Length > 0)
        {
            _store.Io.Write(handle, DataPath(chunk.FileName), fresh, have);
            _received[ordinal] = have + fresh.Length;
        }
    }

    /// <summary>Verifies every file against the manifest, makes it durable and stages the snapshot; returns its manifest.</summary>
    public SnapshotManifest Commit()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        CloseHandle();
        for (var i = 0; i < Manifest.Files.Count; i++)
        {
            var entry = Manifest.Files[i];
            var path = DataPath(entry.Name);
            if (!File.Exists(path) && entry.Length == 0)
            {
                HandleFor(i);
                CloseHandle();
            }
            var (length, crc) = File.Exists(path) ? SnapshotStore.Checksum(path) : (0, 0u);
            if (length != entry.Length || crc != entry.Crc32C)
            {
                // Start this file over; the others stay, so a retry resends only it.
                if (File.Exists(path))
                {
                    File.Delete(path);
                }
                _received[i] = 0;
                throw new SnapshotIntegrityException($"Received snapshot file '{entry.Name}' does not match the manifest of {Manifest}: length {length} (expected {entry.Length}), crc32c {crc:x8} (expected {entry.Crc32C:x8}). It was discarded; resend it from offset 0.");
            }
        }
        File.Delete(Path.Combine(_directory, "receiving.json"));
        _store.SyncTree(_directory);
        var manifest = _store.Stage(_directory, Manifest);
        _done = true;
        _store.Track(_directory, add: false);
        return manifest;
    }

    /// <summary>Gives up and deletes the partial data (no resume).</summary>
    public void Abort()
    {
        if (_done)
        {
            return;
        }
        CloseHandle();
        _done = true;
        SnapshotStore.DeleteDirectory(_directory);
        _store.Track(_directory, add: false);
    }

    /// <summary>Stops receiving but keeps the partial data for a later resume.</summary>
    public void Dispose()
    {
        CloseHandle();
        if (!_done)
        {
            _done = true;
            _store.Track(_directory, add: false);
        }
    }

    private string DataPath(string name) => Path.Combine(_directory, SnapshotStore.DataDirectoryName, name.Replace('/', Path.DirectorySeparatorChar));

    private SafeFileHandle HandleFor(int ordinal)
    {
        if (_handleFile != ordinal)
        {
            CloseHandle();
            var path = DataPath(Manifest.Files[ordinal].Name);
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            _store.Io.Faults?.BeforeCreate(path);
            _handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            _handleFile = ordinal;
        }
        return _handle!;
    }

    private void CloseHandle()
    {
        _handle?.Dispose();
        _handle = null;
        _handleFile = -1;
    }
}
