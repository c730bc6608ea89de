using System.Globalization;
using HaMaster.Chaos.Overload;
using Xunit.Abstractions;

namespace HaMaster.Chaos.Tests;

/// <summary>
/// Issue 17's overload promise, the short CI variant of <c>scripts/chaos.sh --overload</c>: three
/// real masters; for 8 s the leader's client port gets callers within capacity, ten times as
/// many excess callers, a rapid-reset flood and a half-sent-large-body flood. The leader and
/// term must not change, the leader's RSS stays within its bound, excess is refused, served
/// calls and refusals stay within their bounds (relaxed by the measured baseline on a busy
/// machine, see <see cref="OverloadRun"/>), and the log stays quiet. Bounded: about a minute.
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
        Assert.True(report.Passed, report.Format());
    }
}
