using HaMaster.Server.Configuration;
using HaMaster.Server.Peers;

namespace HaMaster.Server.Tests.Peers;

/// <summary>
/// Issue 17's cluster id: fixed once per data directory (stored, configured, derived from the
/// initial members, or adopted by a joining master) and never changed afterwards.
/// </summary>
public sealed class ClusterIdentityTests : IDisposable
{
    private static readonly MasterEndpoint[] Members =
    [
        new(1, "127.0.0.1:1", "127.0.0.1:101", ""),
        new(2, "127.0.0.1:2", "127.0.0.1:102", ""),
        new(3, "127.0.0.1:3", "127.0.0.1:103", ""),
    ];

    private readonly string _directory = Directory.CreateTempSubdirectory("hamaster-cluster-id-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Data(string name) => Directory.CreateDirectory(Path.Combine(_directory, name)).FullName;

    [Fact]
    public void Masters_of_one_bootstrap_derive_the_same_id_and_other_member_lists_another()
    {
        var first = ClusterIdentity.Open(Data("m1"), configured: null, join: false, Members);
        var second = ClusterIdentity.Open(Data("m2"), configured: null, join: false, [.. Members.Reverse()]);
        Assert.Equal(first.Id, second.Id);
        Assert.Matches("^[0-9a-f]{16}$", first.Id);
        Assert.Null(ClusterIdentity.Problem(first.Id));

        // Another cluster (other peer addresses) gets another id.
        MasterEndpoint[] other = [.. Members.Select(m => m with { PeerAddress = m.PeerAddress.Replace("127.0.0.1", "10.1.1.1", StringComparison.Ordinal) })];
        Assert.NotEqual(first.Id, ClusterIdentity.Derive(other));
    }

    [Fact]
    public void The_stored_id_wins_over_later_member_lists_and_a_different_configured_id_stops_the_start()
    {
        var data = Data("m1");
        var id = ClusterIdentity.Open(data, configured: "prod-eu-1", join: false, Members).Id;
        Assert.Equal("prod-eu-1", id);
        Assert.Equal("prod-eu-1\n", File.ReadAllText(Path.Combine(data, "cluster.id")));

        // Restarted with another member list, or with --join: still the stored id.
        Assert.Equal("prod-eu-1", ClusterIdentity.Open(data, configured: null, join: false, [Members[0]]).Id);
        Assert.Equal("prod-eu-1", ClusterIdentity.Open(data, configured: null, join: true, []).Id);
        Assert.Equal("prod-eu-1", ClusterIdentity.Open(data, configured: "prod-eu-1", join: false, Members).Id);

        var changed = Assert.Throws<ArgumentException>(() => ClusterIdentity.Open(data, configured: "prod-us-1", join: false, Members));
        Assert.Contains("'prod-us-1' differs from the id 'prod-eu-1'", changed.Message, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(data, "cluster.id"), "not an id!\n");
        Assert.Throws<InvalidDataException>(() => ClusterIdentity.Open(data, configured: null, join: false, Members));
    }

    [Fact]
    public void A_data_directory_from_before_cluster_ids_adopts_the_derived_id_like_its_peers()
    {
        // An existing data directory (state, no cluster.id): the id comes from --members, as on its peers.
        var data = Data("old");
        File.WriteAllText(Path.Combine(data, "hardstate"), "x");
        Assert.Equal(ClusterIdentity.Derive(Members), ClusterIdentity.Open(data, configured: null, join: false, Members).Id);
        Assert.True(File.Exists(Path.Combine(data, "cluster.id")));
    }

    [Fact]
    public void A_joining_master_has_no_id_until_it_adopts_its_clusters_and_then_keeps_it()
    {
        var data = Data("joiner");
        var joiner = ClusterIdentity.Open(data, configured: null, join: true, []);
        Assert.Null(joiner.Id);
        Assert.False(File.Exists(Path.Combine(data, "cluster.id")));

        Assert.True(joiner.TryAdopt("abc123"));
        Assert.Equal("abc123", joiner.Id);
        Assert.True(joiner.TryAdopt("abc123"));
        Assert.False(joiner.TryAdopt("other"));
        Assert.Equal("abc123", joiner.Id);
        Assert.Equal("abc123", ClusterIdentity.Open(data, configured: null, join: true, []).Id);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("has space", "only letters")]
    [InlineData("naïve", "only letters")]
    public void Malformed_ids_are_named(string id, string expected)
    {
        Assert.Contains(expected, ClusterIdentity.Problem(id), StringComparison.Ordinal);
        Assert.Contains("longer than 64", ClusterIdentity.Problem(new string('a', 65)), StringComparison.Ordinal);
        Assert.Contains("ClusterId", Assert.Throws<ArgumentException>(() => MasterConfiguration.Load(["--id", "1", "--members", "1=a:1/a:2", "--cluster-id", "a b"]).Validate()).Message, StringComparison.Ordinal);
        Assert.Equal("prod-1", MasterConfiguration.Load(["--id", "1", "--members", "1=a:1/a:2", "--cluster-id", "prod-1"]).ClusterId);
    }
}
