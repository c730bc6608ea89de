using HaMaster.Server.Configuration;

namespace HaMaster.Server.Tests.Configuration;

public sealed class MasterOptionsValidateTests
{
    private static readonly MasterOptions Valid = new()
    {
        NodeId = 2,
        InitialMembers = MasterEndpoint.ParseList("1=a:1/a:2,2=b:1/b:2,3=c:1/c:2"),
    };

    public static TheoryData<string, MasterOptions, string> Invalid => new()
    {
        { "node id 0", Valid with { NodeId = 0 }, "NodeId must be a non-zero integer (--id)." },
        { "client port high", Valid with { ClientPort = 65536 }, "ClientPort 65536 is not a port number." },
        { "client port negative", Valid with { ClientPort = -1 }, "ClientPort -1 is not a port number." },
        { "peer port", Valid with { PeerPort = 70000 }, "PeerPort 70000 is not a port number." },
        { "web port -2", Valid with { WebPort = -2 }, "WebPort -2 is not a port number (-1 = off)." },
        { "web port high", Valid with { WebPort = 65536 }, "WebPort 65536 is not a port number (-1 = off)." },
        { "data dir blank", Valid with { DataDirectory = "  " }, "DataDirectory must be set (--data-dir)." },
        { "tick zero", Valid with { TickInterval = TimeSpan.Zero }, "TickInterval must be positive." },
        { "election <= heartbeat", Valid with { ElectionTicks = 3, HeartbeatTicks = 3 }, "ElectionTicks (3) must exceed HeartbeatTicks (3)." },
        { "heartbeat zero", Valid with { HeartbeatTicks = 0 }, "HeartbeatTicks must be positive." },
        { "snapshot every", Valid with { SnapshotEveryEntries = 0 }, "SnapshotEveryEntries must be positive." },
        { "log keep", Valid with { LogEntriesKeptBehindSnapshot = -1 }, "LogEntriesKeptBehindSnapshot must be >= 0." },
        { "snapshots kept", Valid with { SnapshotsKept = 0 }, "SnapshotsKept must be at least 1." },
        { "inode cache", Valid with { InodeCacheMaxEntries = -1 }, "InodeCacheMaxEntries must be >= 0." },
        { "worker timeout", Valid with { WorkerTimeout = TimeSpan.Zero }, "WorkerTimeout must be positive." },
        { "max message", Valid with { MaxMessageBytes = 1023 }, "MaxMessageBytes must be at least 1024." },
        { "list page", Valid with { MaxListPageSize = 0 }, "MaxListPageSize must be at least 1." },
        { "no members", Valid with { InitialMembers = [] }, "InitialMembers must list the cluster's masters (--members), or set --join to be added later." },
        { "not a member", Valid with { NodeId = 4 }, "NodeId 4 is not among InitialMembers (1,2,3)." },
        { "duplicate ids", Valid with { InitialMembers = MasterEndpoint.ParseList("1=a:1/a:2,2=b:1/b:2,2=c:1/c:2") }, "InitialMembers has duplicate ids." },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Each_rule_throws_its_message(string rule, MasterOptions options, string message)
    {
        var e = Assert.Throws<ArgumentException>(options.Validate);
        Assert.True(message == e.Message, $"{rule}: expected \"{message}\", got \"{e.Message}\"");
    }

    [Fact]
    public void Boundary_values_are_valid()
    {
        Assert.Same(Valid, Valid.Validate());
        (Valid with { ClientPort = 0, PeerPort = 0, WebPort = 0 }).Validate();
        (Valid with { ClientPort = 65535, PeerPort = 65535, WebPort = 65535 }).Validate();
        (Valid with { WebPort = -1, LogEntriesKeptBehindSnapshot = 0, InodeCacheMaxEntries = 0, MaxMessageBytes = 1024, MaxListPageSize = 1 }).Validate();
        (Valid with { ElectionTicks = 2, HeartbeatTicks = 1 }).Validate();
    }

    [Fact]
    public void A_joining_master_skips_the_member_rules()
    {
        (Valid with { Join = true, InitialMembers = [] }).Validate();
        (Valid with { Join = true, NodeId = 9 }).Validate();
        var e = Assert.Throws<ArgumentException>((Valid with { Join = true, NodeId = 0 }).Validate);
        Assert.StartsWith("NodeId", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Advertised_addresses_override_bind_address_and_ports()
    {
        var o = Valid with { BindAddress = "10.0.0.5", ClientPort = 1, PeerPort = 2 };
        Assert.Equal("10.0.0.5:1", o.ClientAddress);
        Assert.Equal("10.0.0.5:2", o.PeerAddress);
        o = o with { AdvertisedClientAddress = "m:11", AdvertisedPeerAddress = "m:12" };
        Assert.Equal("m:11", o.ClientAddress);
        Assert.Equal("m:12", o.PeerAddress);
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("10.0.0.5")]
    public void A_non_loopback_bind_without_a_secret_or_mutual_tls_is_refused(string bind)
    {
        var e = Assert.Throws<ArgumentException>((Valid with { BindAddress = bind }).Validate);
        Assert.Contains("--cluster-secret-file", e.Message, StringComparison.Ordinal);
        Assert.Contains("--tls-trusted-cert", e.Message, StringComparison.Ordinal);

        // Either form of authentication lets it start.
        (Valid with { BindAddress = bind, ClusterSecret = "0123456789abcdef" }).Validate();
        var cert = Path.GetTempFileName();
        try
        {
            (Valid with { BindAddress = bind, TlsCertificatePath = cert, TlsTrustedCertificatePath = cert }).Validate();

            // TLS without a trusted authority for the other masters is not mutual TLS.
            Assert.Throws<ArgumentException>((Valid with { BindAddress = bind, TlsCertificatePath = cert }).Validate);
        }
        finally
        {
            File.Delete(cert);
        }
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.2")]
    [InlineData("::1")]
    public void A_loopback_bind_needs_no_secret(string bind) => (Valid with { BindAddress = bind }).Validate();

    [Fact]
    public void A_short_cluster_secret_is_refused()
    {
        var e = Assert.Throws<ArgumentException>((Valid with { ClusterSecret = "fifteen-bytes!!" }).Validate);
        Assert.StartsWith("ClusterSecret must be at least 16 bytes", e.Message, StringComparison.Ordinal);
        (Valid with { ClusterSecret = "sixteen-bytes!!!" }).Validate();
    }

    [Fact]
    public void The_secret_file_is_read_trimmed_and_refused_when_empty_short_missing_or_doubled()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "  a-long-enough-cluster-secret \n");
            var o = MasterConfiguration.Load(["--id", "2", "--members", "1=a:1/a:2,2=b:1/b:2", "--cluster-secret-file", file]);
            Assert.Equal("a-long-enough-cluster-secret", o.ClusterSecret);
            Assert.Equal(file, o.ClusterSecretFile);
            (o with { BindAddress = "0.0.0.0" }).Validate();

            File.WriteAllText(file, "\n  \n");
            Assert.Contains("is empty", Assert.Throws<ArgumentException>(() => MasterConfiguration.Load(["--cluster-secret-file", file])).Message, StringComparison.Ordinal);
            File.WriteAllText(file, "short\n");
            Assert.Contains("shorter than 16 bytes", Assert.Throws<ArgumentException>(() => MasterConfiguration.Load(["--cluster-secret-file", file])).Message, StringComparison.Ordinal);
            File.WriteAllText(file, "a-long-enough-cluster-secret");
            Assert.Contains("not both", Assert.Throws<ArgumentException>(() => MasterConfiguration.Load(["--cluster-secret-file", file, "--cluster-secret", "another-long-secret-value"])).Message, StringComparison.Ordinal);

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                Assert.False(MasterOptions.IsWorldReadable(file));
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.OtherRead);
                Assert.True(MasterOptions.IsWorldReadable(file));
            }
        }
        finally
        {
            File.Delete(file);
        }

        Assert.Contains("cannot be read", Assert.Throws<ArgumentException>(() => MasterConfiguration.Load(["--cluster-secret-file", file])).Message, StringComparison.Ordinal);
    }
}
