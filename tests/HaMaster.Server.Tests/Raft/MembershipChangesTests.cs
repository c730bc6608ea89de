using HaMaster.Protos.V1;
using HaMaster.Raft;
using HaMaster.Server.Raft;

namespace HaMaster.Server.Tests.Raft;

/// <summary>
/// Adding, removing and moving leadership against a fake loop that records what was proposed and answers
/// status questions as the test says; the transfer deadline runs on manual ticks.
/// </summary>
public sealed class MembershipChangesTests
{
    private const int ElectionTicks = 10;
    private readonly FakeLoop _loop = new();
    private readonly MembershipChanges _changes;

    public MembershipChangesTests()
    {
        _changes = new MembershipChanges(_loop, ElectionTicks, TimeSpan.FromMilliseconds(1));
    }

    private static RaftStatus Status(RaftRole role, ClusterConfig config, params PeerProgress[] progress) =>
        new(1, 3, 1, role, role == RaftRole.Leader ? 1ul : 2ul, 100, 100, 1, 100, config, 0, progress);

    private static PeerProgress Peer(ulong id, ulong match, bool learner = false) => new(id, match, match + 1, ProgressState.Replicate, learner, true, 0);

    [Fact]
    public async Task Adding_a_master_records_its_address_adds_a_learner_and_promotes_it_once_caught_up()
    {
        var address = new MasterAddress { Id = 4, PeerAddress = "127.0.0.1:7004" };
        _loop.Statuses.Enqueue(Status(RaftRole.Leader, new ClusterConfig([1, 2, 3])));
        _loop.Statuses.Enqueue(Status(RaftRole.Leader, new ClusterConfig([1, 2, 3], [4]), Peer(2, 100), Peer(4, 10, learner: true)));
        _loop.Statuses.Enqueue(Status(RaftRole.Leader, new ClusterConfig([1, 2, 3], [4]), Peer(2, 100), Peer(4, 99, learner: true)));

        await _changes.AddMasterAsync(address, learnerOnly: false, CancellationToken.None);

        Assert.Equal(4ul, Assert.Single(Assert.Single(_loop.Directories).Members).Id);
        Assert.Equal([new ConfigChange(ConfigChangeKind.AddLearner, 4), new ConfigChange(ConfigChangeKind.PromoteLearner, 4)], _loop.Changes);
        Assert.Empty(_loop.Statuses); // it polled until the learner was within reach of the log's end
    }

    [Fact]
    public async Task A_promotion_refused_as_not_caught_up_is_retried_and_any_other_refusal_ends_the_add()
    {
        var address = new MasterAddress { Id = 4 };
        var caughtUp = Status(RaftRole.Leader, new ClusterConfig([1, 2, 3], [4]), Peer(2, 100), Peer(4, 99, learner: true));
        _loop.Statuses.Enqueue(Status(RaftRole.Leader, new ClusterConfig([1, 2, 3])));
        _loop.Statuses.Enqueue(caughtUp);
        _loop.Statuses.Enqueue(caughtUp);
        // The learner lagged again between the progress check and the proposal: refused by value, then accepted.
        _loop.Refusals.Enqueue(null);
        _loop.Refusals.Enqueue(new ClusterPreconditionException("the learner has not caught up with the leader's log yet", ProposeStatus.LearnerNotCaughtUp));

        await _changes.AddMasterAsync(address, learnerOnly: false, CancellationToken.None);
        Assert.Equal(3, _loop.Changes.Count); // add, refused promotion, promotion
        Assert.Empty(_loop.Statuses);

        // A refusal that waiting cannot fix (quorum) is the caller's answer, even if its text says "caught up".
        _loop.Changes.Clear();
        _loop.Statuses.Enqueue(Status(RaftRole.Leader, new ClusterConfig([1, 2, 3])));
        _loop.Statuses.Enqueue(caughtUp);
        _loop.Refusals.Enqueue(null);
        _loop.Refusals.Enqueue(new ClusterPreconditionException("refused although the learner is caught up", ProposeStatus.WouldLoseQuorum));
        var e = await Assert.ThrowsAsync<ClusterPreconditionException>(() => _changes.AddMasterAsync(address, learnerOnly: false, CancellationToken.None));
        Assert.Equal(ProposeStatus.WouldLoseQuorum, e.Refusal);
        Assert.Equal(2, _loop.Changes.Count);
    }

    [Fact]
    public async Task A_learner_only_add_stops_after_the_learner_and_an_existing_voter_is_left_alone()
    {
        _loop.Statuses.Enqueue(Status(RaftRole.Leader, new ClusterConfig([1, 2, 3])));
        await _changes.AddMasterAsync(new MasterAddress { Id = 4 }, learnerOnly: true, CancellationToken.None);
        Assert.Equal([new ConfigChange(ConfigChangeKind.AddLearner, 4)], _loop.Changes);

        _loop.Statuses.Enqueue(Status(RaftRole.Leader, new ClusterConfig([1, 2, 3, 4])));
        await _changes.AddMasterAsync(new MasterAddress { Id = 4 }, learnerOnly: false, CancellationToken.None);
        Assert.Single(_loop.Changes);
    }

    [Fact]
    public async Task Membership_changes_on_a_follower_are_refused_with_the_leader()
    {
        _loop.Observed = RaftObservedState.Initial(1) with { LeaderId = 2 };
        var e = await Assert.ThrowsAsync<NotLeaderException>(() => _changes.RemoveMasterAsync(3, CancellationToken.None));
        Assert.Equal(2ul, e.LeaderId);
        await Assert.ThrowsAsync<NotLeaderException>(() => _changes.AddMasterAsync(new MasterAddress { Id = 4 }, false, CancellationToken.None));
        Assert.Empty(_loop.Changes);
        Assert.Empty(_loop.Directories);
    }

    [Fact]
    public async Task A_transfer_to_the_most_caught_up_voter_completes_when_it_leads()
    {
        _loop.Statuses.Enqueue(Status(RaftRole.Leader, new ClusterConfig([1, 2, 3], [4]), Peer(2, 90), Peer(3, 95), Peer(4, 100, learner: true)));
        var transfer = _changes.TransferLeadershipAsync(0, CancellationToken.None);
        _loop.RunPosted();
        Assert.Equal([3ul], _loop.Transfers);

        _changes.Tick(leader: 1);
        Assert.False(transfer.IsCompleted);
        _changes.Tick(leader: 3);
        Assert.Equal(3ul, await transfer);
    }

    [Fact]
    public async Task A_transfer_that_does_not_complete_in_time_fails_with_a_reason()
    {
        _loop.Statuses.Enqueue(Status(RaftRole.Leader, new ClusterConfig([1, 2, 3]), Peer(2, 100), Peer(3, 100)));
        var transfer = _changes.TransferLeadershipAsync(2, CancellationToken.None);
        _loop.RunPosted();
        for (var t = 0; t < _changes.TransferTimeoutTicks; t++) _changes.Tick(leader: 1);
        Assert.False(transfer.IsCompleted);
        _changes.Tick(leader: 1);

        var e = await Assert.ThrowsAsync<ClusterPreconditionException>(() => transfer);
        Assert.Contains($"within {3 * ElectionTicks} ticks", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_transfer_to_a_non_voter_is_refused_before_anything_is_asked_of_the_core()
    {
        _loop.Statuses.Enqueue(Status(RaftRole.Leader, new ClusterConfig([1, 2, 3], [4])));
        var e = await Assert.ThrowsAsync<ClusterPreconditionException>(() => _changes.TransferLeadershipAsync(4, CancellationToken.None));
        Assert.Contains("not a voter", e.Message, StringComparison.Ordinal);
        Assert.Empty(_loop.Posted);
    }

    private sealed class FakeLoop : IMembershipLoop
    {
        public Queue<RaftStatus> Statuses { get; } = new();

        public List<MemberDirectory> Directories { get; } = [];

        public List<ConfigChange> Changes { get; } = [];

        public List<ulong> Transfers { get; } = [];

        public System.Collections.Concurrent.ConcurrentQueue<Action> Posted { get; } = new();

        public ulong NodeId => 1;

        public RaftObservedState Observed { get; set; } = RaftObservedState.Initial(1) with { Role = RaftRole.Leader, LeaderId = 1 };

        public MemberDirectory Directory { get; } = new();

        public Task<RaftStatus> GetStatusAsync() =>
            Statuses.TryDequeue(out var s) ? Task.FromResult(s) : throw new InvalidOperationException("the test gave no more statuses");

        public Task ProposeDirectoryAsync(MemberDirectory directory, CancellationToken cancellationToken)
        {
            Directories.Add(directory);
            return Task.CompletedTask;
        }

        /// <summary>Per proposed change, in order: null accepts it, an exception refuses it (none queued: accepted).</summary>
        public Queue<Exception?> Refusals { get; } = new();

        public Task ProposeConfigChangeAsync(ConfigChange change, CancellationToken cancellationToken)
        {
            Changes.Add(change);
            return Refusals.TryDequeue(out var refusal) && refusal is not null ? Task.FromException(refusal) : Task.CompletedTask;
        }

        public void Post(Action work) => Posted.Enqueue(work);

        public void BeginTransfer(ulong target) => Transfers.Add(target);

        /// <summary>Runs what was posted, as the loop would (the fake's statuses are ready at once, so the post is already here).</summary>
        public void RunPosted()
        {
            Assert.False(Posted.IsEmpty);
            while (Posted.TryDequeue(out var work)) work();
        }
    }
}
