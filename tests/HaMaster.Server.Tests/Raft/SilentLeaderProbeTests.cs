using HaMaster.Raft;
using HaMaster.Server.Raft;
using Microsoft.Extensions.Logging.Abstractions;

namespace HaMaster.Server.Tests.Raft;

/// <summary>
/// Failure detection of a silent leader with a fake probe the test answers: the core is told to forget the
/// leader only on evidence that its process is gone, only for a silent leader, one probe at a time.
/// </summary>
public sealed class SilentLeaderProbeTests
{
    private readonly List<(ulong Leader, ulong Term)> _forgotten = [];
    private readonly List<string> _probed = [];
    private readonly System.Collections.Concurrent.ConcurrentQueue<Action> _posted = new();
    private TaskCompletionSource<bool> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SilentLeaderProbe Probe(int heartbeatTicks = 1) => new(
        (address, _, _) =>
        {
            lock (_probed) _probed.Add(address);
            return _answer.Task;
        },
        (leader, term) =>
        {
            _forgotten.Add((leader, term));
            return true;
        },
        id => id == 2 ? "127.0.0.1:7002" : null,
        _posted.Enqueue,
        heartbeatTicks,
        TimeSpan.FromMilliseconds(100),
        NullLogger.Instance,
        CancellationToken.None);

    [Fact]
    public async Task A_refused_probe_of_a_silent_leader_makes_the_loop_forget_it()
    {
        var probe = Probe();
        probe.Tick(RaftRole.Follower, leader: 2, leaderSilenceTicks: probe.ProbeAfterTicks, term: 5);
        Assert.NotNull(probe.Running);
        _answer.SetResult(true);
        await probe.Running!;

        Assert.Equal(["127.0.0.1:7002"], _probed);
        Assert.True(_posted.TryDequeue(out var forget));
        forget();
        Assert.Equal([(2ul, 5ul)], _forgotten);
    }

    [Fact]
    public async Task A_probe_without_evidence_changes_nothing()
    {
        var probe = Probe();
        probe.Tick(RaftRole.Follower, 2, probe.ProbeAfterTicks, 5);
        _answer.SetResult(false);
        await probe.Running!;
        Assert.Empty(_posted);
    }

    [Theory]
    [InlineData(RaftRole.Leader, 2ul, 10)]
    [InlineData(RaftRole.Candidate, 2ul, 10)]
    [InlineData(RaftRole.Follower, 0ul, 10)] // no leader known
    [InlineData(RaftRole.Follower, 3ul, 10)] // no address for it
    [InlineData(RaftRole.Follower, 2ul, 1)] // not silent long enough
    public void Only_a_follower_probes_a_known_leader_silent_for_two_heartbeats(RaftRole role, ulong leader, int silence)
    {
        var probe = Probe(heartbeatTicks: 1);
        Assert.Equal(2, probe.ProbeAfterTicks);
        probe.Tick(role, leader, silence, 5);
        Assert.Null(probe.Running);
        Assert.Empty(_probed);
    }

    [Fact]
    public async Task At_most_one_probe_is_in_flight()
    {
        var probe = Probe();
        probe.Tick(RaftRole.Follower, 2, 10, 5);
        var first = probe.Running;
        probe.Tick(RaftRole.Follower, 2, 11, 5);
        Assert.Same(first, probe.Running);

        _answer.SetResult(false);
        await first!;
        _answer = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        probe.Tick(RaftRole.Follower, 2, 12, 5);
        Assert.NotSame(first, probe.Running);
        _answer.SetResult(false);
        await probe.Running!;
        Assert.Equal(2, _probed.Count);
    }
}
