using Microsoft.Win32.SafeHandles;

namespace HaMaster.Journal;

/// <summary>
/// One chunk of a snapshot stream. <see cref="Crc32C"/> covers <see cref="Data"/> so the receiver
/// rejects a chunk damaged in transit before writing it.
/// </summary>
public readonly record struct SnapshotChunk(string FileName, long Offset, ReadOnlyMemory<byte> Data, uint Crc32C, bool LastInFile, bool LastInSnapshot);

/// <summary>
/// Reads a committed snapshot as chunks, file by file in manifest order (empty files yield one
/// empty chunk). The sender awaits each send before reading the next chunk (back-pressure) and can
/// resume after a broken stream with <see cref="Seek"/>. Not thread-safe.
/// </summary>
public sealed class SnapshotReader : IDisposable
{
    private readonly string _dataDirectory;
    private readonly int _chunkBytes;
    private int _file;
    private long _offset;
    private SafeFileHandle? _handle;
    private int _handleFile = -1;

    internal SnapshotReader(SnapshotManifest manifest, string dataDirectory, int chunkBytes)
    {
        Manifest = manifest;
        _dataDirectory = dataDirectory;
        _chunkBytes = chunkBytes;
    }

    public SnapshotManifest Manifest { get; }

    /// <summary>Continue from <paramref name="offset"/> in file <paramref name="fileName"/> (e.g. a receiver's resume point).</summary>
    public void Seek(string fileName, long offset)
    {
        var ordinal = Manifest.Files.ToList().FindIndex(f => f.Name == fileName);
        if (ordinal < 0 || offset < 0 || offset > Manifest.Files[ordinal].Length)
        {
            throw new ArgumentException($"Cannot seek to '{fileName}' at {offset}: not in {Manifest}.");
        }
        _file = ordinal;
        _offset = offset;
    }

    /// <summary>The next chunk, or null after the last one.</summary>
    public async ValueTask<SnapshotChunk?> ReadNextAsync(CancellationToken ct = default)
    {
        if (_file >= Manifest.Files.Count)
        {
            return null;
        }
        var entry = Manifest.Files[_file];
        if (_handleFile != _file)
        {
            _handle?.Dispose();
            _handle = File.OpenHandle(Path.Combine(_dataDirectory, entry.Name), FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
            _handleFile = _file;
        }
        var length = (int)Math.Min(_chunkBytes, entry.Length - _offset);
        var data = new byte[length];
        var read = 0;
        while (read < length)
        {
            var n = await RandomAccess.ReadAsync(_handle!, data.AsMemory(read), _offset + read, ct).ConfigureAwait(false);
            if (n == 0)
            {
                throw new SnapshotIntegrityException($"Snapshot file '{entry.Name}' of {Manifest} is shorter than its manifest says ({entry.Length} bytes).");
            }
            read += n;
        }
        var chunk = new SnapshotChunk(entry.Name, _offset, data, Crc32C.Compute(data), _offset + length == entry.Length, _offset + length == entry.Length && _file == Manifest.Files.Count - 1);
        _offset += length;
        if (_offset == entry.Length)
        {
            _file++;
            _offset = 0;
        }
        return chunk;
    }

    public void Dispose() => _handle?.Dispose();
}
