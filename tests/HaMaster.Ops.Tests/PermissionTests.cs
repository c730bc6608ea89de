using HaMaster.Client;
using HaMaster.Grpc;
using HaMaster.Ops.Tests.Infrastructure;
using HaMaster.Protos.V1;

namespace HaMaster.Ops.Tests;

/// <summary>
/// Issue 9 file-system permissions (SIMPLE authentication: hamaster-user / hamaster-groups
/// headers) on a master started with --enforce-permissions: alice's 0600 file and 0700
/// directory cannot be modified by bob (PERMISSION_DENIED naming the path and the missing
/// right); root, the superuser, can. The master checks writes only (see the report): reads are
/// not asserted here.
/// </summary>
public sealed class PermissionTests
{
    private const uint Mode0777 = 511;
    private const uint Mode0700 = 448;
    private const uint Mode0600 = 384;

    [Fact]
    public async Task Bob_cannot_modify_alices_private_file_or_directory_and_root_can()
    {
        await using var cluster = await OpsCluster.StartAsync(new OpsClusterOptions { Size = 1, ExtraArguments = ["--enforce-permissions"] });
        var root = cluster.CreateClient(o => o with { User = "root", Groups = ["root"] });
        var alice = cluster.CreateClient(o => o with { User = "alice", Groups = ["alice"] });
        var bob = cluster.CreateClient(o => o with { User = "bob", Groups = ["bob"] });

        await root.CreateDirectoryAsync("/shared", mode: Mode0777);
        await root.SetAttributeAsync(new SetAttributeRequest { Path = "/shared", Mode = Mode0777 });
        var file = await alice.CreateFileAsync("/shared/private", mode: Mode0600);
        Assert.Equal("alice", file.Owner);
        await alice.CreateDirectoryAsync("/shared/alice", mode: Mode0700);

        // Completing (writing) alice's 0600 file needs write on it.
        var write = await Assert.ThrowsAsync<HaMasterPermissionDeniedException>(async () => await bob.CompleteFileAsync("/shared/private", 0));
        Assert.Equal(StatusCode.PermissionDenied, write.Status);
        Assert.Contains("/shared/private", write.Detail, StringComparison.Ordinal);
        Assert.Contains("lacks write", write.Detail, StringComparison.Ordinal);

        // Changing its mode needs ownership.
        var chmod = await Assert.ThrowsAsync<HaMasterPermissionDeniedException>(async () =>
            await bob.SetAttributeAsync(new SetAttributeRequest { Path = "/shared/private", Mode = Mode0777 }));
        Assert.Contains("/shared/private", chmod.Detail, StringComparison.Ordinal);
        Assert.Contains("not the owner", chmod.Detail, StringComparison.Ordinal);

        // Creating inside alice's 0700 directory needs write+execute on it.
        var create = await Assert.ThrowsAsync<HaMasterPermissionDeniedException>(async () => await bob.CreateFileAsync("/shared/alice/intruder"));
        Assert.Contains("/shared/alice", create.Detail, StringComparison.Ordinal);
        Assert.Contains("lacks", create.Detail, StringComparison.Ordinal);

        // Nothing of bob's attempts took effect.
        Assert.Equal(Mode0600, (await alice.GetStatusAsync("/shared/private")).Mode);

        // The superuser passes every check.
        await root.CreateFileAsync("/shared/alice/by-root");
        var changed = await root.SetAttributeAsync(new SetAttributeRequest { Path = "/shared/private", Mode = Mode0777 });
        Assert.Equal(Mode0777, changed.Info.Mode);
        await root.CompleteFileAsync("/shared/private", 0);

        // The owner keeps her rights.
        await alice.CreateFileAsync("/shared/alice/own");
    }
}
