using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text.Json;

namespace HaMaster.Journal;

/// <summary>
/// A backup: one snapshot in a tar archive. Entries, in order: <c>hamaster-backup.json</c>
/// (format version, snapshot index/term, SHA-256 of the manifest), <c>manifest.json</c> (the
/// snapshot manifest with every file's length and CRC-32C) and <c>data/&lt;file&gt;</c> for each
/// file. Reading verifies the manifest digest and every file's length and CRC-32C, so a damaged
/// or truncated archive is refused with a message saying what is wrong.
/// </summary>
public static class BackupArchive
{
    public const string HeaderEntry = "hamaster-backup.json";
    public const string ManifestEntry = "manifest.json";
    public const string DataPrefix = "data/";
    public const int FormatVersion = 1;

    /// <summary>Writes an archive of <paramref name="manifest"/>'s files found under <paramref name="dataDirectory"/>.</summary>
    public static void Write(Stream output, SnapshotManifest manifest, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(manifest);
        var manifestBytes = manifest.ToBytes();
        var header = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["format"] = FormatVersion,
            ["snapshotIndex"] = manifest.Index,
            ["snapshotTerm"] = manifest.Term,
            ["createdAt"] = manifest.CreatedAt,
            ["manifestSha256"] = Convert.ToHexString(SHA256.HashData(manifestBytes)),
            ["files"] = manifest.Files.Count,
            ["bytes"] = manifest.TotalBytes,
        });
        using var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        WriteBytes(tar, HeaderEntry, header);
        WriteBytes(tar, ManifestEntry, manifestBytes);
        foreach (var file in manifest.Files)
        {
            var path = Path.Combine(dataDirectory, file.Name);
            using var stream = File.OpenRead(path);
            if (stream.Length != file.Length)
            {
                throw new SnapshotIntegrityException($"{path} is {stream.Length} bytes, the manifest says {file.Length}");
            }

            var entry = new PaxTarEntry(TarEntryType.RegularFile, DataPrefix + file.Name) { DataStream = stream };
            tar.WriteEntry(entry);
        }
    }

    /// <summary>
    /// Reads and verifies an archive; when <paramref name="extractTo"/> is given (a directory that
    /// must not exist yet), writes the snapshot's files there. Returns the snapshot manifest.
    /// </summary>
    public static SnapshotManifest Read(Stream input, string? extractTo = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (extractTo is not null)
        {
            if (Directory.Exists(extractTo)) throw new IOException($"{extractTo} already exists");
            Directory.CreateDirectory(extractTo);
        }

        using var tar = new TarReader(input, leaveOpen: true);
        var headerEntry = tar.GetNextEntry() ?? throw Damaged("it is empty");
        if (headerEntry.Name != HeaderEntry) throw Damaged($"the first entry is '{headerEntry.Name}', expected {HeaderEntry} (not a HaMaster backup?)");
        using var header = JsonDocument.Parse(ReadAll(headerEntry));
        if (!header.RootElement.TryGetProperty("format", out var format) || format.GetInt32() != FormatVersion)
        {
            throw Damaged($"unsupported backup format (this version reads format {FormatVersion})");
        }

        var manifestEntry = tar.GetNextEntry() ?? throw Damaged("the manifest is missing");
        if (manifestEntry.Name != ManifestEntry) throw Damaged($"expected {ManifestEntry}, found '{manifestEntry.Name}'");
        var manifestBytes = ReadAll(manifestEntry);
        var expectedSha = header.RootElement.GetProperty("manifestSha256").GetString();
        if (!string.Equals(expectedSha, Convert.ToHexString(SHA256.HashData(manifestBytes)), StringComparison.OrdinalIgnoreCase))
        {
            throw Damaged("the manifest does not match its SHA-256 in the header");
        }

        var manifest = SnapshotManifest.FromBytes(manifestBytes);
        var expected = manifest.Files.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var buffer = new byte[1 << 20];
        while (tar.GetNextEntry() is { } entry)
        {
            if (!entry.Name.StartsWith(DataPrefix, StringComparison.Ordinal)) throw Damaged($"unexpected entry '{entry.Name}'");
            var name = entry.Name[DataPrefix.Length..];
            if (!expected.TryGetValue(name, out var file)) throw Damaged($"'{name}' is not in the manifest");
            if (!seen.Add(name)) throw Damaged($"'{name}' appears twice");
            var source = entry.DataStream ?? Stream.Null;
            FileStream? target = null;
            if (extractTo is not null)
            {
                var path = Path.Combine(extractTo, name);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                target = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            }

            try
            {
                long length = 0;
                var crc = ~0u;
                int n;
                while ((n = source.Read(buffer)) > 0)
                {
                    crc = Crc32C.Update(crc, buffer.AsSpan(0, n));
                    length += n;
                    target?.Write(buffer, 0, n);
                }

                if (length != file.Length) throw Damaged($"'{name}' has {length} bytes, the manifest says {file.Length} (truncated?)");
                if (~crc != file.Crc32C) throw Damaged($"'{name}' fails its CRC-32C check");
                target?.Flush(flushToDisk: true);
            }
            finally
            {
                target?.Dispose();
            }
        }

        var missing = manifest.Files.Where(f => !seen.Contains(f.Name)).Select(f => f.Name).ToList();
        if (missing.Count > 0) throw Damaged($"{missing.Count} file(s) missing, e.g. '{missing[0]}' (truncated archive?)");
        return manifest;
    }

    private static void WriteBytes(TarWriter tar, string name, byte[] bytes)
    {
        using var data = new MemoryStream(bytes, writable: false);
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = data });
    }

    private static byte[] ReadAll(TarEntry entry)
    {
        using var copy = new MemoryStream();
        entry.DataStream?.CopyTo(copy);
        return copy.ToArray();
    }

    private static SnapshotIntegrityException Damaged(string why) => new($"backup archive is damaged or invalid: {why}");
}
