using HaMaster.Metadata;
using HaMaster.Server.Configuration;

namespace HaMaster.Server.Tests.Configuration;

/// <summary>HAMASTER_&lt;Key&gt; environment variables and their precedence below command-line flags.</summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class MasterConfigurationEnvironmentTests
{
    [Fact]
    public void Environment_variables_set_every_kind_of_setting()
    {
        using var env = new EnvironmentScope()
            .Set("HAMASTER_NodeId", "3")
            .Set("HAMASTER_DataDirectory", "/srv/m3")
            .Set("HAMASTER_InitialMembers", "1=a:1/a:2/a:3,2=b:1/b:2/b:3,3=c:1/c:2/c:3")
            .Set("HAMASTER_ClientPort", "1200")
            .Set("HAMASTER_Metastore", "Heap")
            .Set("HAMASTER_Fsync", "false")
            .Set("HAMASTER_TickIntervalMs", "50")
            .Set("HAMASTER_WorkerGracePeriodMs", "2500")
            .Set("HAMASTER_AdvertisedClientAddress", "c:1");
        var o = MasterConfiguration.Load([]);
        Assert.Equal(3UL, o.NodeId);
        Assert.Equal("/srv/m3", o.DataDirectory);
        Assert.Equal([1UL, 2UL, 3UL], o.InitialMembers.Select(m => m.Id));
        Assert.Equal(1200, o.ClientPort);
        Assert.Equal(MetastoreKind.Heap, o.Metastore);
        Assert.False(o.Fsync);
        Assert.Equal(TimeSpan.FromMilliseconds(50), o.TickInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), o.WorkerGracePeriod);
        Assert.Equal("c:1", o.ClientAddress);
        o.Validate();
    }

    [Fact]
    public void An_unknown_variable_is_a_warning_and_tool_variables_are_not()
    {
        using var env = new EnvironmentScope()
            .Set("HAMASTER_NodeIdd", "3")
            .Set("HAMASTER_LOG_LEVEL", "Debug")
            .Set("HAMASTER_TOKEN", "t");
        var o = MasterConfiguration.Load([], out var warnings);
        Assert.Equal(0UL, o.NodeId);
        var warning = Assert.Single(warnings);
        Assert.Contains("HAMASTER_NodeIdd", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Flags_take_precedence_over_environment_variables()
    {
        using var env = new EnvironmentScope()
            .Set("HAMASTER_NodeId", "3")
            .Set("HAMASTER_DataDirectory", "/srv/env")
            .Set("HAMASTER_Join", "false")
            .Set("HAMASTER_TickIntervalMs", "50");
        var o = MasterConfiguration.Load(["--id", "8", "--data-dir", "/srv/flag", "--join"]);
        Assert.Equal(8UL, o.NodeId);
        Assert.Equal("/srv/flag", o.DataDirectory);
        Assert.True(o.Join);
        Assert.Equal(TimeSpan.FromMilliseconds(50), o.TickInterval); // not given as a flag: the variable still applies
        Assert.Equal(6UL, MasterConfiguration.Load(["--NodeId", "6"]).NodeId);
    }

    [Fact]
    public void Invalid_environment_value_names_the_key_and_the_value()
    {
        using var env = new EnvironmentScope().Set("HAMASTER_PeerPort", "nineteen");
        var e = Assert.Throws<ArgumentException>(() => MasterConfiguration.Load([]));
        Assert.Contains("PeerPort 'nineteen'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Variables_without_the_prefix_are_ignored()
    {
        using var env = new EnvironmentScope().Set("NodeId", "4").Set("HAMASTERX_NodeId", "4");
        Assert.Equal(0UL, MasterConfiguration.Load([]).NodeId);
    }

    [Fact]
    public void Environment_overrides_appsettings_json()
    {
        var file = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        Assert.False(File.Exists(file), "the test output folder must not hold an appsettings.json");
        File.WriteAllText(file, """{ "HaMaster": { "ElectionTicks": 20, "SnapshotsKept": 3 } }""");
        try
        {
            using var env = new EnvironmentScope().Set("HAMASTER_ElectionTicks", "30");
            var o = MasterConfiguration.Load([]);
            Assert.Equal(3, o.SnapshotsKept); // the file is read
            Assert.Equal(30, o.ElectionTicks); // ...but the variable must win
            Assert.Equal(40, MasterConfiguration.Load(["--ElectionTicks", "40"]).ElectionTicks);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
