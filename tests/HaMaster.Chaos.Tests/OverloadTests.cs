using System.Globalization;
using HaMaster.Chaos.Overload;
using Xunit.Abstractions;

namespace HaMaster.Chaos.Tests;

/// <summary>
/// Issue 17's overload promise, the short CI variant of <c>scripts/chaos.sh --overload</c>: three
/// real masters; for 8 s the leader's client port gets callers within capacity, ten times as
/// many excess callers, a rapid-reset flood and a half-sent-large-body flood. The leader and
/// term must not change, the leader's RSS stays within its bound, excess is refused while callers
/// within capacity (another address, so another caller to the fair-share admission) are served
/// with at most 2% refused, and the log stays quiet. Latency is a benchmark figure, not a CI assertion (a shared 2-core machine measured
/// a served p99 from 0.2 to 0.9 s under the same floods): here calls only have to be answered
/// (served or refused) within 3 s (p99), inside their 5 s deadline, i.e. not queued until it expires;
/// the 200 ms / 1 s targets are checked and printed by <c>scripts/chaos.sh --overload</c>.
/// Bounded: about a minute.
/// </summary>
public sealed class OverloadTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Floods_at_the_leaders_client_port_cost_no_leadership_and_excess_is_refused_at_once()
    {
        using var progress = new StringWriter(CultureInfo.InvariantCulture);
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var report = await OverloadRun.RunAsync(new OverloadOptions
        {
            Duration = TimeSpan.FromSeconds(8),
            BaselineDuration = TimeSpan.FromSeconds(4),
            ServedP99Bound = TimeSpan.FromSeconds(3),
            RefusalBound = TimeSpan.FromSeconds(3),
            Progress = TextWriter.Synchronized(progress),
        }, limit.Token);
        output.WriteLine(progress.ToString());
        output.WriteLine(report.Format());

        Assert.Equal(report.LeaderBefore, report.LeaderAfter);
        Assert.Equal(report.TermBefore, report.TermAfter);
        Assert.Single(report.TermsSeen);
        Assert.True(report.RapidReset.Streams > 10_000, $"the rapid-reset flood sent only {report.RapidReset.Streams} streams");
        Assert.True(report.HalfBodies.Streams >= 64, $"the half-body flood opened only {report.HalfBodies.Streams} streams");
        Assert.True(report.Excess.Refused > 0, "no excess call was refused");
        Assert.True(report.WithinCapacity.Served > 0, "no call within capacity was served");
        Assert.True(report.WithinCapacity.Refused <= report.WithinCapacity.Total * 0.02, $"callers within capacity were refused {report.WithinCapacity.Refused} times of {report.WithinCapacity.Total}");
        Assert.True(report.Passed, report.Format());
    }
}
