using System.Globalization;
using System.Text.Json;
using HaMaster.Chaos.Core.Processes;

namespace HaMaster.Cluster.Tests.Infrastructure;

/// <summary>A master's (applied index, state digest) from its <c>/api/digest</c>, and the check that all agree.</summary>
public static class StateDigests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary><c>appliedIndex:digest</c> of master <paramref name="id"/>.</summary>
    public static async Task<string> DigestAsync(this TestCluster cluster, ulong id)
    {
        var text = await Http.GetStringAsync(new Uri($"http://{cluster.Master(id).WebAddress}/api/digest"));
        using var document = JsonDocument.Parse(text);
        return document.RootElement.GetProperty("appliedIndex").GetUInt64().ToString(CultureInfo.InvariantCulture) + ":" + document.RootElement.GetProperty("digest").GetString();
    }

    /// <summary>The applied index part of <see cref="DigestAsync"/>.</summary>
    public static async Task<ulong> AppliedIndexAsync(this TestCluster cluster, ulong id) =>
        ulong.Parse((await cluster.DigestAsync(id)).Split(':')[0], CultureInfo.InvariantCulture);

    /// <summary>Waits (bounded) until every running master reaches the same applied index with the same digest.</summary>
    public static Task AllDigestsEqualAsync(this TestCluster cluster, TimeSpan wait) => Eventually.TrueAsync("every master to hold the same state digest", async () =>
    {
        var digests = new HashSet<string>(StringComparer.Ordinal);
        foreach (var master in cluster.Running) digests.Add(await cluster.DigestAsync(master.Id));
        return digests.Count == 1;
    }, wait, cluster.Diagnostics);
}
