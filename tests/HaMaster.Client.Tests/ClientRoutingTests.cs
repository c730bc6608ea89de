using Grpc.Core;
using HaMaster.Protos.V1;

namespace HaMaster.Client.Tests;

public sealed class ClientRoutingTests : IAsyncLifetime
{
    private FakeCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await FakeCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Discovers_the_leader_through_a_live_seed_when_the_first_seed_is_down()
    {
        using var client = new HaMasterClient(_cluster.Options(_cluster.DownAddress, _cluster.Follower.Address));

        var info = await client.CreateDirectoryAsync("/a");

        Assert.Equal("/a", info.Path);
        Assert.Equal(_cluster.Leader.Address, client.CachedLeader);
        Assert.Equal(1, _cluster.Leader.Calls("CreateDirectory"));
        Assert.Equal(0, _cluster.Follower.Calls("CreateDirectory"));
        // Members learned from GetClusterInfo.
        Assert.Contains(_cluster.Leader.Address, client.KnownMasters);
    }

    [Fact]
    public async Task Discovery_works_from_any_single_seed()
    {
        foreach (var seed in new[] { _cluster.Leader.Address, _cluster.Follower.Address })
        {
            using var client = new HaMasterClient(_cluster.Options(seed));
            var cluster = await client.DiscoverAsync();
            Assert.Equal(1UL, cluster.LeaderId);
            Assert.Equal(_cluster.Leader.Address, client.CachedLeader);
            Assert.Equal(3, client.KnownMasters.Count);
        }
    }

    [Fact]
    public async Task Concurrent_calls_share_one_discovery()
    {
        using var client = new HaMasterClient(_cluster.Options(_cluster.Follower.Address));

        await Task.WhenAll(Enumerable.Range(0, 32).Select(i => client.CreateFileAsync($"/c{i}").AsTask()));

        Assert.InRange(_cluster.Follower.Calls("GetClusterInfo"), 1, 2);
        Assert.Equal(32, _cluster.Leader.Calls("CreateFile"));
    }

    [Fact]
    public async Task Discovery_with_every_master_down_is_unavailable()
    {
        using var client = new HaMasterClient(_cluster.Options(_cluster.DownAddress, FakeMaster.ClosedAddress()));

        var error = await Assert.ThrowsAsync<HaMasterUnavailableException>(async () => await client.DiscoverAsync());

        Assert.Equal(StatusCode.Unavailable, error.Status);
        Assert.Null(client.CachedLeader);
    }

    [Fact]
    public async Task Follows_the_leader_trailer_of_an_unavailable_follower()
    {
        // The follower knows of no leader in its GetClusterInfo answer, so the client first sends
        // the write to it; its UNAVAILABLE carries hamaster-leader, which the client follows.
        _cluster.Follower.ReportLeader = false;
        using var client = new HaMasterClient(_cluster.Options(_cluster.Follower.Address));

        await client.CreateFileAsync("/f");

        Assert.Equal(1, _cluster.Follower.Calls("CreateFile"));
        Assert.Equal(1, _cluster.Leader.Calls("CreateFile"));
        Assert.Equal(_cluster.Leader.Address, client.CachedLeader);
        // Next time it goes direct.
        await client.GetStatusAsync("/f");
        Assert.Equal(0, _cluster.Follower.Calls("GetStatus"));
        Assert.Equal(1, _cluster.Leader.Calls("GetStatus"));
        // The redirected write was one logical write: the same session reached both masters.
        var sessions = _cluster.Follower.Sessions.Concat(_cluster.Leader.Sessions).Where(s => s.Method == "CreateFile").ToList();
        Assert.Equal(2, sessions.Count);
        Assert.Equal(sessions[0].Sequence, sessions[1].Sequence);
    }

    [Fact]
    public async Task Retries_a_lost_write_reply_with_the_same_session_and_applies_it_once()
    {
        _cluster.Leader.FailWritesAfterApply = 1;
        using var client = new HaMasterClient(_cluster.Options(_cluster.Leader.Address));
        var before = _cluster.Namespace.Count;

        var info = await client.CreateFileAsync("/once");

        Assert.Equal("/once", info.Path);
        var sessions = _cluster.Leader.Sessions.Where(s => s.Method == "CreateFile").ToList();
        Assert.Equal(2, sessions.Count);
        Assert.Equal(sessions[0].ClientId, sessions[1].ClientId);
        Assert.Equal(client.ClientId, sessions[0].ClientId);
        Assert.Equal(sessions[0].Sequence, sessions[1].Sequence);
        Assert.Equal(before + 1, _cluster.Namespace.Count);
    }

    [Fact]
    public async Task Sessions_number_writes_and_acknowledge_completed_ones()
    {
        using var client = new HaMasterClient(_cluster.Options(_cluster.Leader.Address) with { ClientId = "fixed-client" });

        await client.CreateDirectoryAsync("/s");
        await client.CreateFileAsync("/s/1");
        await Assert.ThrowsAsync<HaMasterAlreadyExistsException>(async () => await client.CreateFileAsync("/s/1"));
        await client.DeleteAsync("/s/1");

        var sessions = _cluster.Leader.Sessions.ToList();
        Assert.Equal(new ulong[] { 1, 2, 3, 4 }, sessions.Select(s => s.Sequence));
        Assert.Equal(new ulong[] { 0, 1, 2, 3 }, sessions.Select(s => s.AcknowledgedThrough));
        Assert.All(sessions, s => Assert.Equal("fixed-client", s.ClientId));
        Assert.Equal(1, client.Sessions.LaneCount);
    }

    [Fact]
    public async Task Concurrent_writes_use_separate_in_order_sessions()
    {
        using var client = new HaMasterClient(_cluster.Options(_cluster.Leader.Address));

        await Task.WhenAll(Enumerable.Range(0, 16).Select(i => client.CreateFileAsync($"/w{i}").AsTask()));

        // Within each session the master sees strictly increasing sequences, each acknowledging the one before.
        foreach (var lane in _cluster.Leader.Sessions.GroupBy(s => s.ClientId))
        {
            var ordered = lane.ToList();
            Assert.All(ordered.Zip(ordered.Skip(1)), pair => Assert.True(pair.Second.Sequence > pair.First.Sequence));
            Assert.All(ordered, s => Assert.Equal(s.Sequence - 1, s.AcknowledgedThrough));
        }

        Assert.Equal(0, client.Sessions.Outstanding);
    }

    [Fact]
    public async Task Rides_out_an_election_with_backoff()
    {
        _cluster.LeaderAddress = "";
        _cluster.Leader.UnavailableBeforeServing = 3;
        using var client = new HaMasterClient(_cluster.Options(_cluster.Leader.Address));

        await client.CreateDirectoryAsync("/after-election");

        Assert.Equal(4, _cluster.Leader.Calls("CreateDirectory"));
        // One logical write: every attempt carried the same session.
        Assert.Single(_cluster.Leader.Sessions.Select(s => (s.ClientId, s.Sequence)).Distinct());
    }

    [Fact]
    public async Task Does_not_retry_not_found()
    {
        using var client = new HaMasterClient(_cluster.Options(_cluster.Leader.Address));

        var error = await Assert.ThrowsAsync<HaMasterNotFoundException>(async () => await client.GetStatusAsync("/missing"));

        Assert.Equal(StatusCode.NotFound, error.Status);
        Assert.Equal(1, error.Attempts);
        Assert.Equal(_cluster.Leader.Address, error.Master);
        Assert.Contains("/missing", error.Detail, StringComparison.Ordinal);
        Assert.Equal(1, _cluster.Leader.Calls("GetStatus"));
    }

    [Fact]
    public async Task Maps_statuses_to_exception_types()
    {
        using var client = new HaMasterClient(_cluster.Options(_cluster.Leader.Address));
        await client.CreateDirectoryAsync("/d");
        await client.CreateFileAsync("/d/x");

        await Assert.ThrowsAsync<HaMasterAlreadyExistsException>(async () => await client.CreateDirectoryAsync("/d"));
        var precondition = await Assert.ThrowsAsync<HaMasterFailedPreconditionException>(async () => await client.DeleteAsync("/d"));
        Assert.False(precondition.IsTransient);
        await Assert.ThrowsAsync<HaMasterInvalidArgumentException>(async () => await client.GetStatusAsync("relative/path"));
        var admin = await Assert.ThrowsAsync<HaMasterFailedPreconditionException>(async () => await client.RemoveMasterAsync(1));
        Assert.Contains("leader", admin.Detail, StringComparison.Ordinal);
        Assert.Equal(2UL, await client.DeleteAsync("/d", recursive: true));
    }

    [Fact]
    public async Task A_raw_call_that_outlives_its_deadline_fails_with_deadline_exceeded()
    {
        using var client = new HaMasterClient(_cluster.Options(_cluster.Leader.Address) with { CallTimeout = TimeSpan.FromMilliseconds(300), Retry = false });

        var error = await Assert.ThrowsAsync<HaMasterUnavailableException>(async () => await client.GetStatusAsync("/hang"));

        Assert.Equal(StatusCode.DeadlineExceeded, error.Status);
        Assert.Equal(1, error.Attempts);
        Assert.True(error.IsTransient);
    }

    [Fact]
    public async Task Reads_are_retried_after_a_deadline()
    {
        var options = _cluster.Options(_cluster.Leader.Address) with { CallTimeout = TimeSpan.FromMilliseconds(150), TotalRetryBudget = TimeSpan.FromSeconds(30), MaxAttempts = 3 };
        using var client = new HaMasterClient(options);

        var error = await Assert.ThrowsAsync<HaMasterUnavailableException>(async () => await client.GetStatusAsync("/hang"));

        Assert.Equal(StatusCode.DeadlineExceeded, error.Status);
        Assert.Equal(3, error.Attempts);
        Assert.Equal(3, _cluster.Leader.Calls("GetStatus"));
    }

    [Fact]
    public async Task The_retry_budget_ends_a_call_before_max_attempts()
    {
        var options = _cluster.Options(_cluster.DownAddress) with { TotalRetryBudget = TimeSpan.FromSeconds(2), MaxAttempts = 1000 };
        using var client = new HaMasterClient(options);

        var error = await Assert.ThrowsAsync<HaMasterUnavailableException>(async () => await client.GetStatusAsync("/"));

        Assert.Equal(StatusCode.Unavailable, error.Status);
        Assert.InRange(error.Attempts, 2, 999);
    }

    [Fact]
    public async Task Unreachable_masters_surface_unavailable_after_bounded_attempts()
    {
        var options = _cluster.Options(_cluster.DownAddress) with { MaxAttempts = 3 };
        using var client = new HaMasterClient(options);

        var error = await Assert.ThrowsAsync<HaMasterUnavailableException>(async () => await client.CreateFileAsync("/nowhere"));

        Assert.Equal(StatusCode.Unavailable, error.Status);
        Assert.Equal(3, error.Attempts);
        Assert.Equal(_cluster.DownAddress, error.Master);
    }

    [Fact]
    public async Task ForMaster_is_pinned_and_raw()
    {
        using var client = new HaMasterClient(_cluster.Options(_cluster.Leader.Address));
        var pinned = client.ForMaster(_cluster.Follower.Address);

        var error = await Assert.ThrowsAsync<HaMasterUnavailableException>(async () => await pinned.GetStatusAsync("/"));

        Assert.Equal(1, error.Attempts);
        Assert.Equal(_cluster.Follower.Address, error.Master);
        Assert.Equal(0, _cluster.Leader.Calls("GetStatus"));
        // The pinned view shares the parent's session numbering.
        await client.ForMaster(_cluster.Leader.Address).CreateDirectoryAsync("/p");
        await client.CreateDirectoryAsync("/q");
        Assert.Equal(new ulong[] { 1, 2 }, _cluster.Leader.Sessions.Select(s => s.Sequence));
    }

    [Fact]
    public async Task Sends_the_caller_identity_headers()
    {
        using var client = new HaMasterClient(_cluster.Options(_cluster.Leader.Address) with { User = "alice", Groups = ["eng", "ops"] });

        var info = await client.CreateDirectoryAsync("/home");

        Assert.Equal("alice", info.Owner);
        Assert.Contains(_cluster.Leader.Identities, i => i is { User: "alice", Groups: "eng,ops" });
    }

    [Fact]
    public async Task Sends_the_cluster_secret_on_admin_calls_only()
    {
        using var client = new HaMasterClient(_cluster.Options(_cluster.Leader.Address) with { ClusterSecret = "s3cret" });

        await client.TakeSnapshotAsync();
        await client.CreateDirectoryAsync("/secret");

        var secrets = _cluster.Leader.Secrets.ToList();
        Assert.Contains(("TakeSnapshot", "s3cret"), secrets);
        Assert.Contains(("CreateDirectory", (string?)null), secrets);
    }

    [Fact]
    public async Task Pages_through_a_whole_directory()
    {
        using var client = new HaMasterClient(_cluster.Options(_cluster.Leader.Address));
        await client.CreateDirectoryAsync("/big");
        for (var i = 0; i < 25; i++)
        {
            await client.CreateFileAsync($"/big/f{i:d2}");
        }

        var names = new List<string>();
        await foreach (var entry in client.ListAllAsync("/big", pageSize: 7))
        {
            names.Add(entry.Name);
        }

        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"f{i:d2}"), names);
        Assert.Equal(4, _cluster.Leader.Calls("ListStatus"));
        var page = await client.ListStatusAsync("/big", limit: 10);
        Assert.Equal(10, page.Entries.Count);
        Assert.Equal("f09", page.NextPageToken);
    }

    [Fact]
    public async Task Typed_block_and_admin_methods_round_trip()
    {
        using var client = new HaMasterClient(_cluster.Options(_cluster.Follower.Address));

        Assert.Equal(7UL, (await client.RegisterWorkerAsync(new RegisterWorkerRequest { Address = "w1:1234" })).WorkerId);
        Assert.Equal(WorkerCommand.None, (await client.WorkerHeartbeatAsync(new WorkerHeartbeatRequest { WorkerId = 8 })).Command);
        await client.CommitBlockAsync(new CommitBlockRequest { WorkerId = 8, BlockId = 5 });
        Assert.Equal(42UL, (await client.GetBlockInfoAsync(5)).Length);
        Assert.Single(await client.GetWorkerInfoListAsync());
        var cluster = await client.GetClusterInfoAsync();
        Assert.Equal(3, cluster.Members.Count);
        Assert.Equal(3UL, (await client.AddMasterAsync(new AddMasterRequest { Id = 4, ClientAddress = "127.0.0.1:1", PeerAddress = "127.0.0.1:2" })).Term);
        Assert.Equal(2UL, await client.TransferLeadershipAsync(2));
        Assert.Equal(99UL, (await client.TakeSnapshotAsync()).SnapshotIndex);
        await client.CreateFileAsync("/blocks");
        Assert.NotEqual(0UL, await client.GetNewBlockIdForFileAsync("/blocks"));
        Assert.Equal("/blocks", (await client.GetFileBlockInfoAsync("/blocks")).Info.Path);
        var renamed = await client.RenameAsync("/blocks", "/moved");
        Assert.Equal("/moved", renamed.Path);
        var changed = await client.SetAttributeAsync(new SetAttributeRequest { Path = "/moved", Mode = 0x1C0 });
        Assert.Equal(0x1C0u, changed.Info.Mode);
        Assert.True((await client.CompleteFileAsync("/moved", 10)).Completed);
    }

    [Fact]
    public async Task Caller_cancellation_is_not_retried()
    {
        using var client = new HaMasterClient(_cluster.Options(_cluster.Leader.Address));
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await client.GetStatusAsync("/hang", cancellationToken: cancellation.Token));
        Assert.InRange(_cluster.Leader.Calls("GetStatus"), 0, 1);
    }
}
