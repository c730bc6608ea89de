using System.Diagnostics;
using HaMaster.Client;
using Grpc.Core;
using HaMaster.Ops.Tests.Infrastructure;

namespace HaMaster.Ops.Tests;

/// <summary>
/// Issue 9 limits, as issue 17 keys them in the default (simple, header identity) mode:
/// <c>--rate-limit 5</c> stops one client's burst with RESOURCE_EXHAUSTED naming the limit, and
/// since a header name proves nothing, callers at one address share the budget: rotating
/// <c>hamaster-user</c> names does not escape it. (Per-principal budgets with authentication:
/// <see cref="JwtAuthenticationTests"/>.)
/// </summary>
public sealed class RateLimitTests
{
    private const double RatePerSecond = 5;
    private const double Burst = 10;

    [Fact]
    public async Task A_burst_is_limited_and_rotating_user_names_does_not_escape_the_limit()
    {
        await using var cluster = await OpsCluster.StartAsync(new OpsClusterOptions { Size = 1, ExtraArguments = ["--rate-limit", "5"] });
        var setup = cluster.CreateClient(o => o with { User = "setup" });

        // The harness's start-up probes came from this address too and may have spent its bucket:
        // the setup write waits for the refill (bounded), then the bucket gets its full refill time
        // (burst 10 at 5/s) so the burst below starts from a full bucket. A token bucket refills
        // with time only; there is no event to wait for.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await setup.CreateFileAsync("/limited");
                break;
            }
            catch (HaMasterException e) when (e.Status == StatusCode.ResourceExhausted && attempt < 40)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250));
            }
        }

        await Task.Delay(TimeSpan.FromSeconds(Burst / RatePerSecond));

        HaMasterClient Raw(string user) => cluster.CreateClient(o => o with { User = user, Retry = false, MaxAttempts = 1, FollowLeader = false });
        var burst = Raw("burst");
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
        Assert.Contains("address", limited.Detail, StringComparison.Ordinal);
        Assert.True(succeeded >= 1, "the first calls of the burst (within the bucket) must pass");

        // 20 callers with fresh names right after: no more pass than the shared bucket refills
        // (a budget per claimed name would let all 20 through).
        var passed = 0;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 20; i++)
        {
            try
            {
                await Raw($"rotated-{i}").GetStatusAsync("/limited");
                passed++;
            }
            catch (HaMasterException e) when (e.Status == StatusCode.ResourceExhausted)
            {
            }
        }

        var allowed = 2 + (int)Math.Ceiling(RatePerSecond * clock.Elapsed.TotalSeconds);
        Assert.True(passed <= allowed, $"{passed} of 20 rotated-name calls passed in {clock.Elapsed.TotalMilliseconds:0} ms; the refill allows {allowed}");
    }
}
