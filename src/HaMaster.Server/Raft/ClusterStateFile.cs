using HaMaster.Journal;
using Google.Protobuf;
using HaMaster.Protos.V1;
using HaMaster.Raft;

namespace HaMaster.Server.Raft;

/// <summary>
/// The membership this master last applied: the Raft configuration and every master's
/// addresses, kept in <c>cluster.state</c> next to the log. Written atomically (temp file,
/// fsync, rename, directory fsync) whenever a configuration or address entry is applied, and
/// read at start-up so that a restart knows its peers without replaying the log. Snapshots
/// carry the same message in their manifest, so a master restored from a snapshot learns it too.
/// </summary>
internal sealed class ClusterStateFile
{
    private readonly string _path;

    public ClusterStateFile(string directory)
    {
        _path = Path.Combine(directory, "cluster.state");
    }

    public bool Exists => File.Exists(_path);

    public ClusterState? Read()
    {
        if (!File.Exists(_path)) return null;
        try
        {
            return ClusterState.Parser.ParseFrom(File.ReadAllBytes(_path));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{_path} is corrupt ({e.Message}); restore this master from a snapshot or remove and re-add it to the cluster", e);
        }
    }

    public void Write(ClusterState state) => DurableFile.WriteAtomically(_path, state.ToByteArray());

    public static ClusterState Create(ClusterConfig config, MemberDirectory directory, ulong appliedIndex = 0) => new()
    {
        RaftConfig = ByteString.CopyFrom(config.ToBytes()),
        Directory = directory,
        AppliedIndex = appliedIndex,
    };

    /// <summary>
    /// The newer of the state in <c>cluster.state</c> and the one in the newest snapshot (taken as of
    /// <paramref name="snapshotIndex"/>): a snapshot installed after the file was last written
    /// carries a newer membership than the file. A file written before states recorded their index
    /// is preferred, as it was then.
    /// </summary>
    public static ClusterState? Newer(ClusterState? file, ClusterState? snapshot, ulong snapshotIndex)
    {
        if (snapshot is null) return file;
        if (file is null) return snapshot;
        if (!file.HasAppliedIndex) return file; // written by an older version: as it always was
        return file.AppliedIndex >= snapshotIndex ? file : snapshot;
    }
}
