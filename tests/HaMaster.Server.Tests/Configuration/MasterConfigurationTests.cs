using HaMaster.Metadata;
using HaMaster.Server.Configuration;

namespace HaMaster.Server.Tests.Configuration;

/// <summary>
/// Command-line parsing through <see cref="MasterConfiguration.Load"/>. These tests pass no
/// HAMASTER_ variables; the ones that set variables live in <see cref="MasterConfigurationEnvironmentTests"/>
/// (a non-parallel collection, which xunit runs after these).
/// </summary>
public sealed class MasterConfigurationTests
{
    private const string Members = "1=127.0.0.1:19200/127.0.0.1:19300/127.0.0.1:19400,2=h2:29200/h2:29300,3=[::1]:39200/[::1]:39300/[::1]:39400";

    [Fact]
    public void No_arguments_give_the_documented_defaults()
    {
        var o = MasterConfiguration.Load([]);
        var d = new MasterOptions();
        Assert.Equal(0UL, o.NodeId);
        Assert.Equal(19200, o.ClientPort);
        Assert.Equal(19300, o.PeerPort);
        Assert.Equal(19400, o.WebPort);
        Assert.Equal("127.0.0.1", o.BindAddress);
        Assert.Equal("data", o.DataDirectory);
        Assert.Empty(o.InitialMembers);
        Assert.False(o.Join);
        Assert.Equal(TimeSpan.FromMilliseconds(100), o.TickInterval);
        Assert.Equal(MetastoreKind.Rocks, o.Metastore);
        Assert.True(o.Fsync);
        Assert.Null(o.ClusterSecret);
        Assert.Equal(d.ElectionTicks, o.ElectionTicks);
        Assert.Equal(d.SnapshotEveryEntries, o.SnapshotEveryEntries);
        Assert.Equal(d.WorkerTimeout, o.WorkerTimeout);
        Assert.Equal("127.0.0.1:19200", o.ClientAddress);
        Assert.Equal("127.0.0.1:19300", o.PeerAddress);
    }

    [Fact]
    public void Every_short_flag_maps_to_its_setting()
    {
        var o = MasterConfiguration.Load(
        [
            "--id", "2", "--members", Members, "--data-dir", "/tmp/m2", "--bind", "0.0.0.0",
            "--client-port", "29200", "--peer-port", "29300", "--web-port", "-1",
            "--metastore", "heap", "--tick-ms", "25", "--election-ticks", "20", "--snapshot-every", "1000",
            "--log-keep", "77", "--worker-timeout-ms", "1500", "--inode-cache", "0", "--fsync", "false",
            "--cluster-secret", "s3cret-s3cret-s3cret",
        ]);
        Assert.Equal(2UL, o.NodeId);
        Assert.Equal("/tmp/m2", o.DataDirectory);
        Assert.Equal("0.0.0.0", o.BindAddress);
        Assert.Equal(29200, o.ClientPort);
        Assert.Equal(29300, o.PeerPort);
        Assert.Equal(-1, o.WebPort);
        Assert.Equal(MetastoreKind.Heap, o.Metastore);
        Assert.Equal(TimeSpan.FromMilliseconds(25), o.TickInterval);
        Assert.Equal(20, o.ElectionTicks);
        Assert.Equal(1000, o.SnapshotEveryEntries);
        Assert.Equal(77, o.LogEntriesKeptBehindSnapshot);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), o.WorkerTimeout);
        Assert.Equal(0, o.InodeCacheMaxEntries);
        Assert.False(o.Fsync);
        Assert.Equal("s3cret-s3cret-s3cret", o.ClusterSecret);
        Assert.Equal("0.0.0.0:29200", o.ClientAddress);
        Assert.Equal([1UL, 2UL, 3UL], o.InitialMembers.Select(m => m.Id));
        Assert.Equal(new MasterEndpoint(1, "127.0.0.1:19200", "127.0.0.1:19300", "127.0.0.1:19400"), o.InitialMembers[0]);
        Assert.Equal(new MasterEndpoint(2, "h2:29200", "h2:29300", ""), o.InitialMembers[1]);
        Assert.Equal("[::1]:39400", o.InitialMembers[2].WebAddress);
        Assert.Same(o, o.Validate());
    }

    [Fact]
    public void Long_form_keys_and_equals_syntax_are_accepted()
    {
        var o = MasterConfiguration.Load(["--NodeId", "5", "--HeartbeatTicks=3", "--SnapshotsKept", "4", "--MaxListPageSize", "9", "--SuperUser", "admin", "--AdvertisedPeerAddress", "m5:1"]);
        Assert.Equal(5UL, o.NodeId);
        Assert.Equal(3, o.HeartbeatTicks);
        Assert.Equal(4, o.SnapshotsKept);
        Assert.Equal(9, o.MaxListPageSize);
        Assert.Equal("admin", o.SuperUser);
        Assert.Equal("m5:1", o.PeerAddress);
        Assert.Equal(7UL, MasterConfiguration.Load(["--id=7"]).NodeId);
    }

    [Theory]
    [InlineData("--join")]
    [InlineData("--join --id 4")]
    [InlineData("--id 4 --join")]
    [InlineData("--join true")]
    [InlineData("--join=true")]
    public void Join_without_or_with_a_true_value_is_set(string commandLine)
    {
        var args = commandLine.Split(' ');
        var o = MasterConfiguration.Load(args);
        Assert.True(o.Join);
        if (args.Contains("4")) Assert.Equal(4UL, o.NodeId);
    }

    [Fact]
    public void Join_false_is_not_set_and_a_joining_master_needs_no_members()
    {
        Assert.False(MasterConfiguration.Load(["--join", "false"]).Join);
        var joining = MasterConfiguration.Load(["--id", "4", "--join"]);
        Assert.Same(joining, joining.Validate());
    }

    [Theory]
    [InlineData("--id", "abc", "NodeId", "'abc'")]
    [InlineData("--id", "-3", "NodeId", "'-3'")]
    [InlineData("--client-port", "19x", "ClientPort", "'19x'")]
    [InlineData("--peer-port", "1.5", "PeerPort", "'1.5'")]
    [InlineData("--web-port", "", "WebPort", "''")]
    [InlineData("--tick-ms", "fast", "TickIntervalMs", "'fast'")]
    [InlineData("--snapshot-every", "1e6", "SnapshotEveryEntries", "'1e6'")]
    [InlineData("--fsync", "yes", "Fsync", "'yes'")]
    [InlineData("--join", "maybe", "Join", "'maybe'")]
    [InlineData("--metastore", "lmdb", "Metastore", "'lmdb'")]
    [InlineData("--client-port", "99999999999", "ClientPort", "'99999999999'")]
    public void Invalid_values_throw_naming_the_key_and_the_value(string flag, string value, string key, string quoted)
    {
        var e = Assert.Throws<ArgumentException>(() => MasterConfiguration.Load([flag, value]));
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
        Assert.Contains(quoted, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_member_list_throws_format_exception_naming_the_member()
    {
        var e = Assert.Throws<FormatException>(() => MasterConfiguration.Load(["--members", "1=a:1/b:2,2=nonsense"]));
        Assert.Contains("'2=nonsense'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("heap", MetastoreKind.Heap)]
    [InlineData("HEAP", MetastoreKind.Heap)]
    [InlineData("Rocks", MetastoreKind.Rocks)]
    [InlineData("rocks", MetastoreKind.Rocks)]
    public void Metastore_is_case_insensitive(string value, MetastoreKind expected) =>
        Assert.Equal(expected, MasterConfiguration.Load(["--metastore", value]).Metastore);

    [Fact]
    public void Numeric_metastore_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => MasterConfiguration.Load(["--metastore", "7"]));
        Assert.Contains("Metastore '7'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_cluster_secret_means_none()
    {
        Assert.Null(MasterConfiguration.Load(["--cluster-secret", ""]).ClusterSecret);
    }

    [Fact]
    public void Last_occurrence_of_a_flag_wins()
    {
        Assert.Equal(9UL, MasterConfiguration.Load(["--id", "3", "--id", "9"]).NodeId);
        Assert.Equal(9UL, MasterConfiguration.Load(["--NodeId", "3", "--id", "9"]).NodeId);
    }
}
