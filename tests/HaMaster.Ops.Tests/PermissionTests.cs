using HaMaster.Client;
using Grpc.Core;
using HaMaster.Ops.Tests.Infrastructure;
using HaMaster.Protos.V1;

namespace HaMaster.Ops.Tests;

/// <summary>
/// Issue 9 file-system permissions (SIMPLE authentication: hamaster-user / hamaster-groups
/// headers) on a master started with --enforce-permissions: alice's 0600 file and 0700
/// directory cannot be modified by bob (PERMISSION_DENIED naming the path and the missing
/// right); root, the superuser, can. Reads are checked too: bob cannot search alice's 0700
/// directory (stat of a file inside, listing) nor list it, while alice and root can.
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

        // Reads: listing needs read on the directory, reaching a file needs execute on every ancestor.
        var list = await Assert.ThrowsAsync<HaMasterPermissionDeniedException>(async () => await bob.ListStatusAsync("/shared/alice"));
        Assert.Contains("/shared/alice: permission denied: user bob lacks read on /shared/alice", list.Detail, StringComparison.Ordinal);
        var stat = await Assert.ThrowsAsync<HaMasterPermissionDeniedException>(async () => await bob.GetStatusAsync("/shared/alice/own"));
        Assert.Contains("/shared/alice/own: permission denied: user bob lacks execute on /shared/alice", stat.Detail, StringComparison.Ordinal);
        await alice.CreateFileAsync("/shared/secret", mode: Mode0600);
        var blocks = await Assert.ThrowsAsync<HaMasterPermissionDeniedException>(async () => await bob.GetFileBlockInfoAsync("/shared/secret"));
        Assert.Contains("lacks read on /shared/secret", blocks.Detail, StringComparison.Ordinal);
        Assert.Equal("alice", (await alice.GetFileBlockInfoAsync("/shared/secret")).Info.Owner);
        Assert.Equal("alice", (await bob.GetStatusAsync("/shared/alice")).Owner); // stat of the directory itself needs only search on its parent
        Assert.Contains((await alice.ListStatusAsync("/shared/alice")).Entries, e => e.Name == "own");
        Assert.Contains((await root.ListStatusAsync("/shared/alice")).Entries, e => e.Name == "own");
    }
}
