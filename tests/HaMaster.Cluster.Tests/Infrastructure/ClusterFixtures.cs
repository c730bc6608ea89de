namespace HaMaster.Cluster.Tests.Infrastructure;

/// <summary>A cluster started once for a test class or collection and stopped after it.</summary>
public abstract class ClusterFixture : IAsyncLifetime
{
    private TestCluster? _cluster;

    public TestCluster Cluster => _cluster ?? throw new InvalidOperationException("the cluster is not started");

    protected virtual ClusterSettings Settings => new();

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(Settings);

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

/// <summary>Three masters that no test kills, pauses or reconfigures: shared by the read/write, error and interop tests.</summary>
public sealed class SharedClusterFixture : ClusterFixture;

[CollectionDefinition(Name)]
public sealed class SharedClusterCollection : ICollectionFixture<SharedClusterFixture>
{
    public const string Name = "shared three-master cluster";
}

/// <summary>Three masters that snapshot every 30 entries and keep 10 behind, so a new master must catch up by snapshot.</summary>
public sealed class CompactingClusterFixture : ClusterFixture
{
    protected override ClusterSettings Settings => new() { SnapshotEvery = 30, LogKeep = 10 };
}

/// <summary>Three plain masters for one test class that kills or reconfigures them.</summary>
public sealed class ThreeMasterFixture : ClusterFixture;

/// <summary>Three masters snapshotting every 50 entries (keeping 20 behind), so restarts recover from a snapshot plus a log tail.</summary>
public sealed class FailoverClusterFixture : ClusterFixture
{
    protected override ClusterSettings Settings => new() { SnapshotEvery = 50, LogKeep = 20 };
}
