using Grpc.Core;
using HaMaster.Cluster.Tests.Infrastructure;
using HaMaster.Protos.V1;

namespace HaMaster.Cluster.Tests;

/// <summary>
/// CreateFiles (bulk creation, issue 19) on real masters: through a follower (forwarded to the
/// leader) a thousand files land in one log entry on every master; bad requests get
/// INVALID_ARGUMENT naming the field (or FAILED_PRECONDITION under a mount) and change nothing.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class BulkCreateTests(SharedClusterFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task A_thousand_files_through_a_follower_are_one_log_entry_identical_on_every_master()
    {
        var (leader, followers) = await Cluster.RolesAsync();
        var root = $"/bulk-{Guid.NewGuid():N}";
        var names = Enumerable.Range(0, 1000).Select(i => $"f{i:D4}").ToArray();
        var viaFollower = Cluster.RawClient(followers[0]);
        await viaFollower.CreateDirectoryAsync(root);
        var before = await Cluster.AppliedIndexAsync(leader);

        var response = await viaFollower.CreateFilesAsync(root, names);
        Assert.Equal((1000u, 0), (response.Created, response.Failures.Count));
        Assert.Equal(before + 1, await Cluster.AppliedIndexAsync(leader));

        // A retry of the same names: every one refused as existing, nothing created twice.
        var again = await Cluster.CreateClient().CreateFilesAsync(root, names.Take(3).Append("new"));
        Assert.Equal(1u, again.Created);
        Assert.Equal([(0u, (int)StatusCode.AlreadyExists), (1u, (int)StatusCode.AlreadyExists), (2u, (int)StatusCode.AlreadyExists)], again.Failures.Select(f => (f.Index, f.Code)));
        Assert.Equal($"{root}/f0000: already exists", again.Failures[0].Message);

        await Cluster.AllDigestsEqualAsync(Wait);
        foreach (var master in Cluster.Running)
        {
            var local = await Cluster.ListNamesOnAsync(master.Id, root, Consistency.Stale);
            Assert.Equal(names.Append("new").Order(StringComparer.Ordinal), local);
        }
    }

    [Fact]
    public async Task Bad_bulk_requests_name_the_field_and_change_nothing()
    {
        var (leader, followers) = await Cluster.RolesAsync();
        var client = Cluster.RawClient(followers[0]);
        var root = $"/bulk-bad-{Guid.NewGuid():N}";
        await client.CreateDirectoryAsync(root);
        var before = (await Cluster.DigestAsync(leader)).Split(':')[1];

        async Task<HaMaster.Client.HaMasterException> RefusedAsync(StatusCode code, CreateFilesRequest request) =>
            await Expect.StatusAsync(code, () => client.CreateFilesAsync(request).AsTask());

        Assert.Equal("names: 0 given, 1 to 1000 allowed", (await RefusedAsync(StatusCode.InvalidArgument, new() { Directory = root })).Detail);
        Assert.Equal("names: 1001 given, 1 to 1000 allowed", (await RefusedAsync(StatusCode.InvalidArgument, new() { Directory = root, Names = { Enumerable.Range(0, 1001).Select(i => $"n{i}") } })).Detail);
        Assert.Equal("names[1]: \"a\" is given twice", (await RefusedAsync(StatusCode.InvalidArgument, new() { Directory = root, Names = { "a", "a" } })).Detail);
        Assert.Equal("names[0]: \"x/y\" is not a single path component", (await RefusedAsync(StatusCode.InvalidArgument, new() { Directory = root, Names = { "x/y" } })).Detail);
        Assert.StartsWith("invalid directory:", (await RefusedAsync(StatusCode.InvalidArgument, new() { Directory = "relative", Names = { "a" } })).Detail);
        Assert.StartsWith("invalid names[0]:", (await RefusedAsync(StatusCode.InvalidArgument, new() { Directory = root, Names = { ".." } })).Detail);
        await Cluster.AllDigestsEqualAsync(Wait);
        Assert.Equal(before, (await Cluster.DigestAsync(await Cluster.WaitForLeaderAsync())).Split(':')[1]);

        var store = Directory.CreateTempSubdirectory("hamaster-bulk-mount-").FullName;
        try
        {
            await client.MountAsync(root + "/m", "file://" + store);
            var mounted = await RefusedAsync(StatusCode.FailedPrecondition, new() { Directory = root + "/m", Names = { "a" } });
            Assert.Contains("is under the mount " + root + "/m", mounted.Detail);
            Assert.Empty(await Cluster.ListNamesOnAsync(leader, root + "/m", Consistency.Linearizable));
            Assert.Empty(Directory.EnumerateFileSystemEntries(store));
            await client.UnmountAsync(root + "/m");
        }
        finally
        {
            Directory.Delete(store, recursive: true);
        }
    }
}
