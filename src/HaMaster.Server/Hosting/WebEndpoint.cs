using System.Net;
using System.Text.Json;
using HaMaster.Protos.V1;
using HaMaster.Server.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Hosting;

/// <summary>
/// The master's plain HTTP port for operators and orchestrators: the live status page
/// (<c>/</c>), <c>/api/cluster</c> (what the page shows, as JSON), <c>/api/status</c> (this
/// master alone), <c>/metrics</c> (Prometheus text), <c>/healthz</c> (process up) and
/// <c>/readyz</c> (knows a leader and has applied everything committed it knows of).
/// Every master serves the same page: followers show the cluster as they see it.
/// <c>/api/digest</c> (a full scan of the state) needs the cluster secret when one is configured
/// (<see cref="WebAuth"/>); the read-only summaries stay open so the page works in a browser.
/// </summary>
internal sealed class WebEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebEndpoint(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    public string Address { get; }

    public static async Task<WebEndpoint> StartAsync(MasterNode node, PrometheusCollector collector, IPAddress bind, int port, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(bind, port));
        var app = builder.Build();
        app.MapGet("/", () => Results.Content(StatusPage.Html, "text/html; charset=utf-8"));
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", () =>
        {
            var (ready, reason) = Readiness.Of(node.Host);
            return ready ? Results.Text($"ready: {reason}\n") : Results.Text($"not ready: {reason}\n", statusCode: 503);
        });
        app.MapGet("/metrics", () => Results.Text(collector.Render(), "text/plain; version=0.0.4; charset=utf-8"));
        app.MapGet("/api/status", (HttpContext http) => WriteJsonAsync(http, LocalStatus(node)));
        // A hash of the whole replicated state at this master's applied index: equal digests at
        // equal applied indexes mean the masters hold identical state (the chaos tests compare them).
        // Computed off the Raft loop from a pinned snapshot, one at a time, cached per applied index (StateDigest).
        var auth = new WebAuth(node.Options.ClusterSecret);
        app.MapGet("/api/digest", async (HttpContext http) =>
        {
            if (auth.Refuse(http) is { } refusal)
            {
                await refusal.ConfigureAwait(false);
                return;
            }

            var digest = await node.Digest.GetAsync(http.RequestAborted).ConfigureAwait(false);
            await WriteJsonAsync(http, new { appliedIndex = digest.AppliedIndex, digest = digest.Digest }).ConfigureAwait(false);
        });
        app.MapGet("/api/cluster", async (HttpContext http) =>
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
            cts.CancelAfter(TimeSpan.FromSeconds(3));
            GetClusterInfoResponse? cluster = null;
            if (node.Admin is { } admin) cluster = await admin.GetClusterInfoAsync(cts.Token).ConfigureAwait(false);
            var workers = node.Machine.ListWorkers();
            var leader = node.Host.Observed.IsLeader;
            var body = new
            {
                self = LocalStatus(node),
                leaderId = cluster?.LeaderId ?? 0,
                leaderAddress = cluster?.LeaderAddress ?? "",
                term = cluster?.Term ?? 0,
                members = cluster?.Members.Select(m => new
                {
                    id = m.Id,
                    clientAddress = m.ClientAddress,
                    peerAddress = m.PeerAddress,
                    webAddress = m.WebAddress,
                    role = m.Role.ToString().ToLowerInvariant(),
                    voter = m.Voter,
                    term = m.Term,
                    lastLogIndex = m.LastLogIndex,
                    commitIndex = m.CommitIndex,
                    appliedIndex = m.AppliedIndex,
                    snapshotIndex = m.SnapshotIndex,
                    matchIndex = m.MatchIndex,
                }).ToArray() ?? [],
                workers = workers.Select(w => new
                {
                    id = w.Id,
                    address = w.Address,
                    state = w.State == WorkerState.Live ? "live" : "lost",
                    capacityBytes = w.Tiers.Sum(t => (double)t.CapacityBytes),
                    usedBytes = w.Tiers.Sum(t => (double)t.UsedBytes),
                    blocks = w.BlockCount,
                    lastHeartbeatMs = leader ? node.Liveness.LastHeartbeatMs(w.Id) : 0,
                }).ToArray(),
                leadershipChanges = node.Host.LeadershipHistory.Reverse().Select(e => new { at = e.At, leaderId = e.LeaderId, term = e.Term, role = e.Role }).ToArray(),
            };
            await WriteJsonAsync(http, body).ConfigureAwait(false);
        });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? $"http://{bind}:{port}";
        return new WebEndpoint(app, $"{bind}:{new Uri(bound).Port}");
    }

    private static object LocalStatus(MasterNode node)
    {
        var o = node.Host.Observed;
        var counts = node.Machine.Counts;
        var snapshot = node.Host.Snapshots.Latest;
        return new
        {
            id = o.NodeId,
            clusterId = node.Cluster.Id,
            role = o.Role.ToString().ToLowerInvariant(),
            leaderId = o.LeaderId,
            term = o.Term,
            commitIndex = o.CommitIndex,
            appliedIndex = o.AppliedIndex,
            lastLogIndex = o.LastLogIndex,
            snapshotIndex = o.SnapshotIndex,
            snapshotAgeSeconds = snapshot is null ? (double?)null : Math.Round((DateTimeOffset.UtcNow - snapshot.CreatedAt).TotalSeconds, 1),
            inodes = counts.Inodes,
            blocks = counts.Blocks,
            workers = counts.Workers,
            metastore = node.Machine.Kind.ToString(),
        };
    }

    private static Task WriteJsonAsync(HttpContext http, object body)
    {
        http.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(http.Response.Body, body, cancellationToken: http.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>
/// Authentication of the web port's administrative endpoints: the cluster secret, as
/// <c>Authorization: Bearer SECRET</c> or header <c>hamaster-cluster-secret</c>, compared in
/// constant time. Without a configured secret only loopback callers are served.
/// </summary>
internal sealed class WebAuth(string? secret)
{
    private readonly byte[]? _secret = secret is null ? null : System.Text.Encoding.UTF8.GetBytes(secret);

    /// <summary>Null when the caller may proceed; otherwise writes a 401 with a short reason (await the task).</summary>
    public Task? Refuse(HttpContext http)
    {
        string? reason;
        if (_secret is null)
        {
            reason = http.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip)
                ? null
                : "no cluster secret is configured: this endpoint is served to loopback callers only";
        }
        else
        {
            var given = Presented(http.Request);
            reason = given is null
                ? "authentication required: send the cluster secret as 'Authorization: Bearer <secret>'"
                : System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(given), _secret)
                    ? null
                    : "the cluster secret does not match";
        }

        if (reason is null) return null;
        http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        http.Response.Headers.WWWAuthenticate = "Bearer realm=\"hamaster\"";
        http.Response.ContentType = "text/plain; charset=utf-8";
        return http.Response.WriteAsync(reason + "\n");
    }

    private static string? Presented(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return authorization[7..].Trim();
        var header = request.Headers[Peers.PeerAuth.SecretHeader].ToString();
        return header.Length > 0 ? header : null;
    }
}
