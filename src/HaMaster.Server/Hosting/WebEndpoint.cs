using System.Net;
using System.Text.Json;
using HaMaster.Metadata;
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
/// With security on, <c>/api/*</c> need a credential (<see cref="WebAuth"/>); the probes,
/// <c>/metrics</c> and the page's static HTML stay open (the page asks for the credential).
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

    /// <summary>Starts the web port; <paramref name="clientAuth"/> (null in simple mode) lets <c>/api/*</c> accept the client port's bearer tokens.</summary>
    public static async Task<WebEndpoint> StartAsync(MasterNode node, PrometheusCollector collector, IPAddress bind, int port, Services.ClientAuthentication? clientAuth, CancellationToken cancellationToken)
    {
        var builder = KestrelHost.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(bind, port));
        var tokens = clientAuth is not null && clientAuth.Modes.HasFlag(Configuration.ClientAuthModes.Jwt);
        if (tokens) clientAuth!.AddServices(builder.Services);
        var app = builder.Build();
        var options = node.Options;
        var auth = new WebAuth(options.ClusterSecret, tokens, options.SecurityOn, options.OpenStatusApi);
        app.MapGet("/", () => Results.Content(StatusPage.Html, "text/html; charset=utf-8"));
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", () =>
        {
            var (ready, reason) = Readiness.Of(node.Host);
            return ready ? Results.Text($"ready: {reason}\n") : Results.Text($"not ready: {reason}\n", statusCode: 503);
        });
        app.MapGet("/metrics", () => Results.Text(collector.Render(), "text/plain; version=0.0.4; charset=utf-8"));
        app.MapGet("/api/status", async (HttpContext http) =>
        {
            if (await auth.AllowStatusAsync(http).ConfigureAwait(false)) await WriteJsonAsync(http, LocalStatus(node)).ConfigureAwait(false);
        });
        // A hash of the whole replicated state at this master's applied index: equal digests at
        // equal applied indexes mean the masters hold identical state (the chaos tests compare them).
        // Computed off the Raft loop from a pinned snapshot, one at a time, cached per applied index (StateDigest).
        app.MapGet("/api/digest", async (HttpContext http) =>
        {
            if (!await auth.AllowDigestAsync(http).ConfigureAwait(false)) return;

            var digest = await node.Digest.GetAsync(http.RequestAborted).ConfigureAwait(false);
            await WriteJsonAsync(http, new { appliedIndex = digest.AppliedIndex, digest = digest.Digest }).ConfigureAwait(false);
        });
        app.MapGet("/api/cluster", async (HttpContext http) =>
        {
            if (!await auth.AllowStatusAsync(http).ConfigureAwait(false)) return;
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
                // Property values of secret-looking keys are masked (MountTable.ToInfo).
                mounts = node.Machine.Mounts.Mounts.Select(MountTable.ToInfo).Select(m => new
                {
                    path = m.Path,
                    ufsUri = m.UfsUri,
                    readOnly = m.ReadOnly,
                    shared = m.Shared,
                    options = m.Properties.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value).ToArray(),
                    mountedAtMs = m.MountedAtMs,
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
