using HaMaster.Protos.V1;
using HaMaster.Raft;
using HaMaster.Server.Raft;

namespace HaMaster.Server.Tests.Raft;

/// <summary>Who may talk to the core, and where a master is reached, from the applied membership.</summary>
public sealed class AppliedMembershipTests
{
    private static AppliedMembership Membership(ClusterConfig config, params MasterAddress[] members)
    {
        var directory = new MemberDirectory();
        directory.Members.AddRange(members);
        return new AppliedMembership(1, ClusterStateFile.Create(config, directory, appliedIndex: 7));
    }

    [Fact]
    public void Members_of_the_configuration_or_the_directory_are_known_and_strangers_are_not()
    {
        var m = Membership(new ClusterConfig([1, 2], [3]), new MasterAddress { Id = 4, PeerAddress = "127.0.0.1:7004" });
        Assert.True(m.IsKnownPeer(2));
        Assert.True(m.IsKnownPeer(3));
        Assert.True(m.IsKnownPeer(4));
        Assert.False(m.IsKnownPeer(5));
        Assert.False(m.IsKnownPeer(1)); // itself
        Assert.False(m.IsKnownPeer(0));
        Assert.Equal(7ul, m.Index);
    }

    [Fact]
    public void A_master_in_no_configuration_yet_accepts_any_authenticated_peer()
    {
        var m = Membership(ClusterConfig.Empty);
        Assert.True(m.IsKnownPeer(9));
        m.ConfigApplied(12, new ClusterConfig([2, 3]));
        Assert.False(m.IsKnownPeer(9));
        Assert.Equal(12ul, m.Index);
    }

    [Fact]
    public void The_directory_wins_over_an_announced_address_and_a_master_cannot_teach_its_own()
    {
        var m = Membership(new ClusterConfig([1, 2, 3]), new MasterAddress { Id = 2, PeerAddress = "127.0.0.1:7002" });
        m.LearnPeerAddress(2, "10.0.0.2:7002");
        m.LearnPeerAddress(3, "127.0.0.1:7003");
        m.LearnPeerAddress(1, "127.0.0.1:9999");
        Assert.Equal("127.0.0.1:7002", m.PeerAddressOf(2));
        Assert.Equal("127.0.0.1:7003", m.PeerAddressOf(3));
        Assert.Null(m.PeerAddressOf(1));

        var directory = new MemberDirectory();
        directory.Members.Add(new MasterAddress { Id = 3, PeerAddress = "127.0.0.1:8003" });
        m.DirectoryApplied(15, directory);
        Assert.Equal("127.0.0.1:8003", m.PeerAddressOf(3));
        Assert.Equal(15ul, m.ToClusterState(15).AppliedIndex);
    }
}
