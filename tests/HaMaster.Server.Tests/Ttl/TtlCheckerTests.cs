using HaMaster.Metadata;
using HaMaster.Protos.V1;
using HaMaster.Server.Ttl;
using Microsoft.Extensions.Logging.Abstractions;

namespace HaMaster.Server.Tests.Ttl;

/// <summary>The leader's TTL checker, in process: a real state machine, proposals applied directly.</summary>
public sealed class TtlCheckerTests : IDisposable
{
    private const long Created = 1_700_000_000_000;
    private readonly string _directory = Directory.CreateTempSubdirectory("hamaster-ttl-").FullName;
    private readonly MetadataStateMachine _machine;
    private readonly FixedClock _clock = new();
    private readonly List<int> _proposedSizes = [];
    private ulong _index;

    public TtlCheckerTests()
    {
        _machine = MetadataStateMachine.Open(_directory, new MetastoreOptions { Kind = MetastoreKind.Rocks });
    }

    public void Dispose()
    {
        _machine.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private sealed class FixedClock : TimeProvider
    {
        public long NowMs { get; set; }

        public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeMilliseconds(NowMs);
    }

    private void CreateFiles(int count, long ttlMs)
    {
        var batch = new List<(ulong, ulong, JournalEntry)>();
        for (var i = 0; i < count; i++)
        {
            batch.Add((++_index, 1, new JournalEntry { TimeMs = Created, CreateFile = new() { Path = $"/f{_index}", TtlMs = ttlMs } }));
        }

        Assert.All(_machine.ApplyBatch(batch), r => Assert.Equal(MetadataStatus.Ok, r.Status));
    }

    /// <summary>Proposes the way a leader would: the entry's time is the clock's at proposal.</summary>
    private Task<CommandResult> ApplyDirectly(ExpireTtlCommand command, CancellationToken cancellationToken)
    {
        _proposedSizes.Add(command.Inodes.Count);
        var entry = new JournalEntry { TimeMs = _clock.NowMs, Caller = new Caller { User = "hamaster-master" }, ExpireTtl = command };
        return Task.FromResult(_machine.Apply(++_index, 1, entry));
    }

    private TtlChecker Checker(Func<ExpireTtlCommand, CancellationToken, Task<CommandResult>> propose, int maxPerRound = 1000) =>
        new(_machine, propose, new TtlCheckerOptions { MaxInodesPerRound = maxPerRound }, _clock, metrics: null, NullLogger.Instance);

    [Fact]
    public async Task A_round_proposes_at_most_the_bound_and_rounds_drain_the_due_inodes()
    {
        CreateFiles(2500, ttlMs: 1000);
        CreateFiles(10, ttlMs: 3_600_000);
        using var checker = Checker(ApplyDirectly);
        checker.SetLeader(true);

        _clock.NowMs = Created + 999;
        Assert.Equal(default, await checker.RunRoundAsync(CancellationToken.None));
        Assert.Empty(_proposedSizes);

        _clock.NowMs = Created + 1000;
        var rounds = new List<TtlRound>();
        for (var i = 0; i < 5; i++)
        {
            rounds.Add(await checker.RunRoundAsync(CancellationToken.None));
        }

        Assert.Equal([1000, 1000, 500], _proposedSizes);
        Assert.Equal([1000, 1000, 500, 0, 0], rounds.Select(r => r.Proposed));
        Assert.Equal(2500L, rounds.Sum(r => (long)(r.Result?.Deleted ?? 0)));
        Assert.Equal(10L, _machine.TtlIndexCount);
        Assert.Equal(11UL, _machine.Counts.Inodes);
    }

    [Fact]
    public async Task A_follower_proposes_nothing_and_losing_leadership_cancels_the_proposal_in_flight()
    {
        CreateFiles(3, ttlMs: 10);
        _clock.NowMs = Created + 10;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task<CommandResult> Hanging(ExpireTtlCommand command, CancellationToken cancellationToken)
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }

        using var checker = Checker(Hanging);
        Assert.Equal(default, await checker.RunRoundAsync(CancellationToken.None));
        Assert.False(started.Task.IsCompleted);

        checker.SetLeader(true);
        var round = checker.RunRoundAsync(CancellationToken.None);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        checker.SetLeader(false);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => round.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(3L, _machine.TtlIndexCount);
    }

    [Fact]
    public async Task A_smaller_bound_limits_the_entries_one_round_examines()
    {
        CreateFiles(30, ttlMs: 5);
        _clock.NowMs = Created + 5;
        using var checker = Checker(ApplyDirectly, maxPerRound: 7);
        checker.SetLeader(true);
        Assert.Equal(7, (await checker.RunRoundAsync(CancellationToken.None)).Proposed);
        Assert.Equal(23L, _machine.TtlIndexCount);
    }
}
