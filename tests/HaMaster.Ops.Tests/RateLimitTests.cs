using HaMaster.Client;
using Grpc.Core;
using HaMaster.Ops.Tests.Infrastructure;

namespace HaMaster.Ops.Tests;

/// <summary>Issue 9 limits: <c>--rate-limit 5</c> stops one client's burst with RESOURCE_EXHAUSTED naming the limit; other clients are unaffected.</summary>
public sealed class RateLimitTests
{
    [Fact]
    public async Task A_burst_from_one_client_is_limited_and_another_client_is_not()
    {
        await using var cluster = await OpsCluster.StartAsync(new OpsClusterOptions { Size = 1, ExtraArguments = ["--rate-limit", "5"] });
        var setup = cluster.CreateClient(o => o with { User = "setup" });
        await setup.CreateFileAsync("/limited");

        var burst = cluster.CreateClient(o => o with { User = "burst", Retry = false, MaxAttempts = 1, FollowLeader = false });
        HaMasterException? limited = null;
        var succeeded = 0;
        for (var i = 0; i < 40 && limited is null; i++)
        {
            try
            {
                await burst.GetStatusAsync("/limited");
                succeeded++;
            }
            catch (HaMasterException e) when (e.Status == StatusCode.ResourceExhausted)
            {
                limited = e;
            }
        }

        Assert.NotNull(limited);
        Assert.Contains("5 requests/s", limited.Detail, StringComparison.Ordinal);
        Assert.True(succeeded >= 1, "the first calls of the burst (within the bucket) must pass");

        // Another client (another user) has its own bucket: served at once, while burst is still limited.
        var calm = cluster.CreateClient(o => o with { User = "calm", Retry = false, MaxAttempts = 1, FollowLeader = false });
        Assert.Equal("/limited", (await calm.GetStatusAsync("/limited")).Path);
    }
}
