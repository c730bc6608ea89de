using HaMaster.Protos.V1;
using HaMaster.Raft;

namespace HaMaster.Server.Raft;

/// <summary>
/// The membership as last applied: the Raft configuration (voters and learners), the member directory
/// (every master's addresses) and the log index they are as of, plus addresses that masters announced
/// themselves before this one applied them. Written only from the Raft loop thread; read from any
/// thread (each member is one atomic reference).
/// </summary>
internal sealed class AppliedMembership
{
    private readonly ulong _self;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, string> _learnedAddresses = new();
    private ClusterConfig _config;
    private MemberDirectory _directory;

    public AppliedMembership(ulong self, ClusterState state)
    {
        _self = self;
        _config = ClusterConfig.FromBytes(state.RaftConfig.Span);
        _directory = state.Directory;
        Index = state.AppliedIndex;
    }

    public ClusterConfig Config => Volatile.Read(ref _config);

    public MemberDirectory Directory => Volatile.Read(ref _directory);

    /// <summary>The log index <see cref="Config"/> and <see cref="Directory"/> are as of. Loop thread.</summary>
    public ulong Index { get; private set; }

    /// <summary>A membership change applied at <paramref name="index"/>. Loop thread.</summary>
    public void ConfigApplied(ulong index, ClusterConfig config)
    {
        Volatile.Write(ref _config, config);
        Index = index;
    }

    /// <summary>A member directory applied at <paramref name="index"/>. Loop thread.</summary>
    public void DirectoryApplied(ulong index, MemberDirectory directory)
    {
        Volatile.Write(ref _directory, directory);
        Index = index;
    }

    /// <summary>Both, from a snapshot installed at <paramref name="index"/>. Loop thread.</summary>
    public void Installed(ulong index, ClusterConfig config, MemberDirectory directory)
    {
        ConfigApplied(index, config);
        DirectoryApplied(index, directory);
    }

    /// <summary>The state to persist in cluster.state (and record in snapshots) as of <paramref name="index"/>.</summary>
    public ClusterState ToClusterState(ulong index = 0) => ClusterStateFile.Create(Config, Directory, index);

    /// <summary>
    /// Peer address of a master: from the replicated directory, else as announced by the master itself
    /// in its last peer call (a master that joined before this one applied its address).
    /// </summary>
    public string? PeerAddressOf(ulong id)
    {
        foreach (var m in Directory.Members)
        {
            if (m.Id == id && m.PeerAddress.Length > 0) return m.PeerAddress;
        }

        return _learnedAddresses.TryGetValue(id, out var learned) ? learned : null;
    }

    public void LearnPeerAddress(ulong id, string peerAddress)
    {
        if (id != _self) _learnedAddresses[id] = peerAddress;
    }

    /// <summary>
    /// Whether Raft messages from master <paramref name="id"/> may reach the core: it is a voter or learner
    /// of the applied configuration or listed in the member directory. A master that belongs to no
    /// configuration yet (started with --join, waiting to be added) cannot know the leader that adds it
    /// before its first entries or snapshot arrive, so it accepts any sender that passed the peer port's
    /// authentication.
    /// </summary>
    public bool IsKnownPeer(ulong id)
    {
        if (id == 0 || id == _self) return false;
        var config = Config;
        if (config.Contains(id)) return true;
        foreach (var m in Directory.Members)
        {
            if (m.Id == id) return true;
        }

        return config.Voters.Count == 0 && config.Learners.Count == 0;
    }
}
