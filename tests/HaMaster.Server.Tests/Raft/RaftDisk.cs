using HaMaster.Journal;
using HaMaster.Raft;

namespace HaMaster.Server.Tests.Raft;

/// <summary>A master's Raft storage for in-process tests: a real log and snapshot store in a temporary directory.</summary>
internal sealed class RaftDisk : IDisposable
{
    /// <param name="terms">The term of each log entry, from index 1.</param>
    public RaftDisk(IEnumerable<ulong> terms, int snapshotsKept = 2)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("hamaster-raft-disk-").FullName;
        Log = RaftLog.Open(new RaftLogOptions { Directory = Path.Combine(Directory, "log"), SegmentBytes = 64 << 10, PreallocateSegments = false, ZeroFillSegments = false });
        Log.Append(terms.Select((term, i) => new LogRecord((ulong)i + 1, term, (byte)EntryType.Normal, new byte[] { 7 })).ToList());
        Log.Flush();
        Snapshots = new SnapshotStore(Path.Combine(Directory, "snapshots"), snapshotsKept);
    }

    public string Directory { get; }

    public RaftLog Log { get; }

    public SnapshotStore Snapshots { get; }

    /// <summary>Publishes a snapshot at (index, term) whose data file holds the index, recording <paramref name="config"/>.</summary>
    public static void Publish(SnapshotStore store, ulong index, ulong term, byte[] config)
    {
        var writer = store.BeginSnapshot(index, term, ReadOnlyMemory<byte>.Empty);
        WriteState(writer.Directory, index);
        writer.Commit(index, term, config);
    }

    /// <summary>A fake state machine's checkpoint: a file holding its applied index.</summary>
    public static void WriteState(string directory, ulong index)
    {
        System.IO.Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "state"), index.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public static ulong ReadState(string directory) =>
        ulong.Parse(File.ReadAllText(Path.Combine(directory, "state")), System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose()
    {
        Log.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
