namespace HaMaster.Journal;

/// <summary>
/// Small files replaced whole and durably (temp file, fdatasync, rename, directory fsync), through the
/// journal's one storage door, for state kept beside the journal (e.g. the server's cluster.state).
/// </summary>
public static class DurableFile
{
    private static readonly StorageIo Io = new(faults: null);

    /// <summary>Replaces <paramref name="path"/> with <paramref name="content"/>; durable when it returns.</summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> content) => Io.WriteFileAtomically(path, content);
}
