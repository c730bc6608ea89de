using System.Text;
using System.Text.Json;

namespace HaMaster.Journal;

/// <summary>One file of a snapshot: path relative to the snapshot's data directory ('/' separated), length and CRC-32C.</summary>
public sealed record SnapshotFileEntry(string Name, long Length, uint Crc32C);

/// <summary>
/// Describes a snapshot: last included index and term, the cluster configuration (opaque bytes of
/// the server), and every file with its checksum. Serialized as JSON (<c>manifest.json</c>), also
/// what a leader sends ahead of the chunks so the follower can <see cref="SnapshotStore.BeginReceive"/>.
/// </summary>
public sealed record SnapshotManifest(ulong Index, ulong Term, ReadOnlyMemory<byte> Config, IReadOnlyList<SnapshotFileEntry> Files, DateTimeOffset CreatedAt)
{
    /// <summary>Sum of all file lengths.</summary>
    public long TotalBytes => Files.Sum(f => f.Length);

    /// <summary>Directory name of this snapshot in a store.</summary>
    internal string DirectoryName => $"snapshot-{Index:D20}-{Term:D20}";

    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("index", Index);
            json.WriteNumber("term", Term);
            json.WriteString("config", Convert.ToBase64String(Config.Span));
            json.WriteString("createdAt", CreatedAt);
            json.WriteStartArray("files");
            foreach (var file in Files)
            {
                json.WriteStartObject();
                json.WriteString("name", file.Name);
                json.WriteNumber("length", file.Length);
                json.WriteNumber("crc32c", file.Crc32C);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return stream.ToArray();
    }

    /// <summary>Parses <see cref="ToBytes"/> output; throws <see cref="SnapshotIntegrityException"/> on malformed input.</summary>
    public static SnapshotManifest FromBytes(ReadOnlySpan<byte> bytes)
    {
        try
        {
            var reader = new Utf8JsonReader(bytes);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            var files = new List<SnapshotFileEntry>();
            foreach (var f in root.GetProperty("files").EnumerateArray())
            {
                var name = f.GetProperty("name").GetString() ?? "";
                ValidateName(name);
                files.Add(new SnapshotFileEntry(name, f.GetProperty("length").GetInt64(), f.GetProperty("crc32c").GetUInt32()));
            }
            return new SnapshotManifest(
                root.GetProperty("index").GetUInt64(),
                root.GetProperty("term").GetUInt64(),
                Convert.FromBase64String(root.GetProperty("config").GetString() ?? ""),
                files,
                root.GetProperty("createdAt").GetDateTimeOffset());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or FormatException or InvalidOperationException or ArgumentException)
        {
            throw new SnapshotIntegrityException($"Malformed snapshot manifest: {e.Message}");
        }
    }

    /// <summary>Rejects names that could escape the snapshot directory.</summary>
    internal static void ValidateName(string name)
    {
        if (name.Length == 0 || name.StartsWith('/') || name.Contains('\\') || name.Contains('\0')
            || name.Split('/').Any(part => part is "" or "." or ".."))
        {
            throw new ArgumentException($"Invalid snapshot file name '{name}'.");
        }
    }

    /// <summary>Content equality (the default record equality compares Config by reference).</summary>
    internal bool SameContentAs(SnapshotManifest other) =>
        Index == other.Index && Term == other.Term && Config.Span.SequenceEqual(other.Config.Span) && Files.SequenceEqual(other.Files);

    public override string ToString() =>
        new StringBuilder().Append("snapshot ").Append(Index).Append('@').Append(Term).Append(" (").Append(Files.Count).Append(" files, ").Append(TotalBytes).Append(" bytes)").ToString();
}
