using HaMaster.Server.Raft;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HaMaster.Server.Hosting;

/// <summary>
/// Whether this master is ready to serve: it runs, knows a leader, and has applied everything it
/// knows to be committed. One decision for <c>/readyz</c> (HTTP 200/503) and the standard
/// <c>grpc.health.v1.Health</c> service (SERVING / NOT_SERVING).
/// </summary>
internal static class Readiness
{
    /// <summary>(true, why) when ready; (false, why not) otherwise.</summary>
    public static (bool Ready, string Reason) Of(RaftHost host)
    {
        var o = host.Observed;
        if (host.Fatal is { } fatal) return (false, $"stopped on error: {fatal.Message}");
        if (o.LeaderId == 0) return (false, "no leader");
        if (o.AppliedIndex < o.CommitIndex) return (false, $"applied {o.AppliedIndex} < commit {o.CommitIndex}");
        return (true, $"leader {o.LeaderId}, applied {o.AppliedIndex}");
    }
}

/// <summary>The ASP.NET Core health check behind <c>grpc.health.v1.Health/Check</c>: <see cref="Readiness"/>.</summary>
internal sealed class ReadinessHealthCheck(RaftHost host) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (ready, reason) = Readiness.Of(host);
        return Task.FromResult(ready ? HealthCheckResult.Healthy(reason) : HealthCheckResult.Unhealthy(reason));
    }
}
