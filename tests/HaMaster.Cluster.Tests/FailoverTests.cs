using HaMaster.Chaos.Core.Processes;
using HaMaster.Cluster.Tests.Infrastructure;
using Grpc.Core;
using HaMaster.Protos.V1;

namespace HaMaster.Cluster.Tests;

/// <summary>
/// Issue 6: kill -9 the leader while clients write (no error surfaced, no duplicate effect);
/// a retried write is applied once (exactly-once sessions); restarting every master keeps every
/// acknowledged file. The masters snapshot every 50 entries, so restarts go through a snapshot
/// plus a log tail. Every test leaves all three masters running.
/// </summary>
public sealed class FailoverTests(FailoverClusterFixture fixture) : IClassFixture<FailoverClusterFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task A_master_asked_to_stop_exits_promptly_although_its_peers_stream_into_it()
    {
        // Every master holds a long-lived DeliverStream open into each peer: a clean shutdown
        // must end those instead of waiting for the server's shutdown timeout (30 s).
        await Cluster.EnsureAllRunningAsync();
        var (_, followers) = await Cluster.RolesAsync();
        var follower = followers[0];
        var client = Cluster.CreateClient();
        await client.CreateDirectoryAsync("/sigterm", recursive: true);

        await Cluster.Master(follower).TerminateAsync(TimeSpan.FromSeconds(10));

        await client.CreateFileAsync("/sigterm/after-stop");
        await Cluster.StartMasterAsync(follower);
        var listed = await Expect.RetryUnavailableAsync(() => Cluster.ListNamesOnAsync(follower, "/sigterm", Consistency.Linearizable));
        Assert.Contains("after-stop", listed);
    }

    [Fact]
    public async Task Killing_the_leader_while_clients_write_surfaces_no_error_and_applies_every_write_once()
    {
        await Cluster.EnsureAllRunningAsync();
        var old = await Cluster.WaitForLeaderAsync();
        var reader = Cluster.CreateClient();
        await reader.CreateDirectoryAsync("/failover", recursive: true);

        var writers = new BackgroundWriters(Enumerable.Range(0, 4).Select(_ => Cluster.CreateClient()).ToList(), "/failover");
        await using (writers)
        {
            await writers.WaitForCountAsync(40, Wait, Cluster.Diagnostics);
            var term = (await Cluster.WebStatusAsync(old)).GetProperty("term").GetUInt64();
            await Cluster.KillAsync(old);
            var atKill = writers.Count;
            var next = await Cluster.WaitForLeaderAsync(id => id != old);
            Assert.NotEqual(old, next);

            // The survivors found the dead leader's peer port refusing connections and elected a successor
            // without waiting out the election timeout (RawNode.ForgetLeader).
            await Eventually.TrueAsync($"a surviving master to report leader {old} of term {term} gone", () => Task.FromResult(
                Cluster.Masters.Where(m => m.Id != old).Any(m => ReportsLeaderGone(m.RecentOutput(400), old, term))), Wait, Cluster.Diagnostics);
            await writers.WaitForCountAsync(atKill + 60, Wait, Cluster.Diagnostics);
            await writers.StopAsync(Wait);
        }

        // Nothing surfaced to the callers: every create, including those retried across the failover, succeeded once.
        Assert.Empty(writers.Errors);
        var expected = writers.Acknowledged.Select(Name).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected.Count, expected.Distinct().Count());
        var listed = new List<string>();
        await foreach (var entry in reader.ListAllAsync("/failover"))
        {
            listed.Add(entry.Name);
        }

        // Nothing lost, nothing extra.
        Assert.Equal(expected, listed);

        // The old leader comes back as a follower and converges to the same namespace.
        await Cluster.StartMasterAsync(old);
        await Eventually.TrueAsync($"restarted master {old} to hold the same listing", async () =>
            (await Cluster.ListNamesOnAsync(old, "/failover", Consistency.Stale)).SequenceEqual(expected), Wait, Cluster.Diagnostics);
        Assert.NotEqual(old, await Cluster.WaitForLeaderAsync());
    }

    [Fact]
    public async Task A_create_retried_with_its_session_after_a_failover_returns_the_first_result_instead_of_already_exists()
    {
        await Cluster.EnsureAllRunningAsync();
        var old = await Cluster.WaitForLeaderAsync();
        var request = new CreateFileRequest
        {
            Path = $"/session-retry/file-{Guid.NewGuid():N}",
            Recursive = true,
            Session = new ClientSession { ClientId = $"cluster-test-{Guid.NewGuid():N}", Sequence = 1 },
        };

        var first = await CreateAsync(old, request);
        await Cluster.KillAsync(old);
        var next = await Cluster.WaitForLeaderAsync(id => id != old);

        // The same (client, sequence) on the new leader, and forwarded by the remaining follower:
        // the first answer again, not ALREADY_EXISTS, and no second inode.
        var again = await CreateAsync(next, request);
        Assert.Equal(first.Info.Id, again.Info.Id);
        Assert.Equal(first.Info.CreationTimeMs, again.Info.CreationTimeMs);
        var follower = Cluster.Running.Select(m => m.Id).Single(id => id != next);
        var forwarded = await CreateAsync(follower, request);
        Assert.Equal(first.Info.Id, forwarded.Info.Id);

        // A new sequence is a new operation: now the file exists.
        var fresh = request.Clone();
        fresh.Session.Sequence = 2;
        fresh.Session.AcknowledgedThrough = 1;
        var exists = await Expect.GrpcStatusAsync(StatusCode.AlreadyExists, () => CreateAsync(next, fresh));
        Assert.Contains(request.Path, exists.Status.Detail);

        await Cluster.StartMasterAsync(old);
        await Cluster.WaitForLeaderAsync();
    }

    [Fact]
    public async Task Restarting_every_master_keeps_every_acknowledged_change()
    {
        await Cluster.EnsureAllRunningAsync();
        var client = Cluster.CreateClient();
        await client.CreateDirectoryAsync("/restart/files", recursive: true);
        var writers = new BackgroundWriters(Enumerable.Range(0, 4).Select(_ => Cluster.CreateClient()).ToList(), "/restart/files");
        await using (writers)
        {
            await writers.WaitForCountAsync(150, Wait, Cluster.Diagnostics);
            await writers.StopAsync(Wait);
        }

        Assert.Empty(writers.Errors);
        var names = writers.Acknowledged.Select(Name).Order(StringComparer.Ordinal).ToList();
        // A few other kinds of change, all acknowledged before the crash.
        await client.RenameAsync($"/restart/files/{names[0]}", "/restart/renamed");
        Assert.Equal(1UL, await client.DeleteAsync($"/restart/files/{names[1]}"));
        var block = await client.GetNewBlockIdForFileAsync($"/restart/files/{names[2]}");
        await client.CompleteFileAsync($"/restart/files/{names[2]}", 42);
        var expected = names.Skip(2).ToList(); // names[0] was renamed away, names[1] deleted

        // The log has been compacted behind a snapshot on the leader, so recovery is snapshot + tail.
        var leader = await Cluster.WaitForLeaderAsync();
        Assert.True((await Cluster.ClusterInfoAsync(leader)).Members.Single(m => m.Id == leader).SnapshotIndex > 0, "the leader took a snapshot");

        // kill -9 every master at once, then start them all again.
        await Task.WhenAll(Cluster.Masters.Select(m => m.KillAsync()));
        Assert.Empty(Cluster.Running);
        await Task.WhenAll(Cluster.Masters.Select(m => Cluster.StartMasterAsync(m.Id)));
        await Cluster.WaitForLeaderAsync();

        var after = Cluster.CreateClient();
        var listed = new List<string>();
        await foreach (var entry in after.ListAllAsync("/restart/files"))
        {
            listed.Add(entry.Name);
        }

        Assert.Equal(expected, listed);
        Assert.Equal(["files", "renamed"], (await after.ListStatusAsync("/restart")).Entries.Select(e => e.Name));
        var completed = await after.GetStatusAsync($"/restart/files/{names[2]}");
        Assert.True(completed.Completed);
        Assert.Equal(42UL, completed.Length);
        Assert.Equal([block], completed.BlockIds);
        await Expect.StatusAsync(StatusCode.NotFound, () => after.GetStatusAsync($"/restart/files/{names[1]}").AsTask());

        // Every master, not just the leader, recovered the same namespace.
        foreach (var master in Cluster.Masters)
        {
            await Eventually.TrueAsync($"master {master.Id} to hold every acknowledged file", async () =>
                (await Cluster.ListNamesOnAsync(master.Id, "/restart/files", Consistency.Stale)).SequenceEqual(expected), Wait, Cluster.Diagnostics);
        }
    }

    [Fact]
    public async Task A_paused_leader_is_replaced_and_catches_up_as_a_follower_when_resumed()
    {
        await Cluster.EnsureAllRunningAsync();
        var old = await Cluster.WaitForLeaderAsync();
        var client = Cluster.CreateClient();
        await client.CreateDirectoryAsync("/paused", recursive: true);

        // SIGSTOP: the process freezes with its sockets open (no connection errors, only silence).
        var term = (await Cluster.WebStatusAsync(old)).GetProperty("term").GetUInt64();
        await Cluster.PauseAsync(old);
        try
        {
            var next = await Cluster.WaitForLeaderAsync(id => id != old);
            // A paused leader still accepts connections: no one took it for dead, the election timeout decided.
            Assert.DoesNotContain(Cluster.Masters.Where(m => m.Id != old), m => ReportsLeaderGone(m.RecentOutput(400), old, term));
            var during = await client.CreateFileAsync("/paused/during");
            Assert.Equal(Cluster.Master(next).ClientAddress, client.CachedLeader);
            Cluster.Resume(old);

            // The old leader learns of the newer term, follows, and applies what it missed.
            await Eventually.TrueAsync($"resumed master {old} to follow and hold /paused/during", async () =>
            {
                var info = await Cluster.ClusterInfoAsync(old);
                var status = await Cluster.RawClient(old).GetStatusAsync("/paused/during", Consistency.Stale);
                return info.LeaderId != old && info.LeaderId != 0 && status.Id == during.Id;
            }, Wait, Cluster.Diagnostics);
        }
        finally
        {
            if (Cluster.IsPaused(old))
            {
                Cluster.Resume(old);
            }
        }

        await Cluster.WaitForLeaderAsync();
    }

    [Fact]
    public async Task A_master_left_without_a_quorum_answers_unavailable_with_the_reason_and_still_serves_stale_reads()
    {
        await Cluster.EnsureAllRunningAsync();
        var (leader, followers) = await Cluster.RolesAsync();
        var lonely = followers[0];
        var client = Cluster.CreateClient();
        var file = await client.CreateFileAsync("/quorum-loss/file", recursive: true);
        await Eventually.TrueAsync($"master {lonely} to apply the file", async () =>
            (await Cluster.RawClient(lonely).GetStatusAsync("/quorum-loss/file", Consistency.Stale)).Id == file.Id, Wait, Cluster.Diagnostics);

        await Cluster.KillAsync(leader);
        await Cluster.KillAsync(followers[1]);
        await Eventually.TrueAsync($"master {lonely} to know it has no leader", async () => (await Cluster.ClusterInfoAsync(lonely)).LeaderId == 0, Wait, Cluster.Diagnostics);

        var raw = Cluster.RawClient(lonely);
        var write = await Expect.StatusAsync(StatusCode.Unavailable, () => raw.CreateFileAsync("/quorum-loss/refused").AsTask());
        Assert.Contains("no leader", write.Detail);
        await Expect.StatusAsync(StatusCode.Unavailable, () => raw.GetStatusAsync("/quorum-loss/file", Consistency.Linearizable).AsTask());
        Assert.Equal(file.Id, (await raw.GetStatusAsync("/quorum-loss/file", Consistency.Stale)).Id);

        // With the quorum back, the refused write never happened.
        await Cluster.StartMasterAsync(leader);
        await Cluster.StartMasterAsync(followers[1]);
        await Cluster.WaitForLeaderAsync();
        await Expect.StatusAsync(StatusCode.NotFound, () => Cluster.CreateClient().GetStatusAsync("/quorum-loss/refused").AsTask());
    }

    private static string Name(string path) => path[(path.LastIndexOf('/') + 1)..];

    /// <summary>CreateFile on one master, sent again while it answers UNAVAILABLE (a new leader not ready yet); safe because the session makes it idempotent.</summary>
    private async Task<CreateFileResponse> CreateAsync(ulong id, CreateFileRequest request)
    {
        var deadline = DateTime.UtcNow + Wait;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await Cluster.Channel(id).FileSystem.CreateFileAsync(request, deadline: DateTime.UtcNow.AddSeconds(10));
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && attempt < 50 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(50 * attempt, 500)));
            }
        }
    }

    private static bool ReportsLeaderGone(string output, ulong leader, ulong term) =>
        output.Split('\n').Any(l => l.Contains($"leader {leader} (peer ", StringComparison.Ordinal) && l.Contains($"of term {term} refuses connections", StringComparison.Ordinal));
}
