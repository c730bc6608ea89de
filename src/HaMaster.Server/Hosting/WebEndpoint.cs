using System.Net;
using System.Text.Json;
using HaMaster.Raft;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Hosting;

/// <summary>
/// The master's plain HTTP port for operators and orchestrators: <c>/healthz</c> (process up),
/// <c>/readyz</c> (knows a leader and has applied everything committed it knows of), and
/// <c>/api/status</c> (this master's view as JSON).
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

    public static async Task<WebEndpoint> StartAsync(MasterNode node, IPAddress bind, int port, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(bind, port));
        var app = builder.Build();
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", () =>
        {
            var o = node.Host.Observed;
            var ready = node.Host.Fatal is null && o.LeaderId != 0 && o.AppliedIndex >= o.CommitIndex;
            return ready
                ? Results.Text($"ready: leader {o.LeaderId}, applied {o.AppliedIndex}\n")
                : Results.Text(node.Host.Fatal is { } f ? $"not ready: stopped on error: {f.Message}\n" : o.LeaderId == 0 ? "not ready: no leader\n" : $"not ready: applied {o.AppliedIndex} < commit {o.CommitIndex}\n", statusCode: 503);
        });
        app.MapGet("/api/status", async (HttpContext http) =>
        {
            var o = node.Host.Observed;
            var counts = node.Machine.Counts;
            var status = new
            {
                id = o.NodeId,
                role = o.Role.ToString(),
                leaderId = o.LeaderId,
                term = o.Term,
                commitIndex = o.CommitIndex,
                appliedIndex = o.AppliedIndex,
                lastLogIndex = o.LastLogIndex,
                snapshotIndex = o.SnapshotIndex,
                inodes = counts.Inodes,
                blocks = counts.Blocks,
                workers = counts.Workers,
            };
            http.Response.ContentType = "application/json";
            await JsonSerializer.SerializeAsync(http.Response.Body, status, cancellationToken: http.RequestAborted).ConfigureAwait(false);
        });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? $"http://{bind}:{port}";
        var uri = new Uri(bound);
        return new WebEndpoint(app, $"{bind}:{uri.Port}");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
