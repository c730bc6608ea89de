using HaMaster.Metadata;
using HaMaster.Protos.V1;
using HaMaster.Server.Observability;
using HaMaster.Server.Raft;
using HaMaster.Server.Services;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Ttl;

/// <summary>What one checker round did.</summary>
internal readonly record struct TtlRound(int Proposed, TtlExpiryResult? Result);

/// <summary>
/// The leader's TTL checker (after Alluxio's InodeTtlChecker). Every <see cref="TtlCheckerOptions.Interval"/>
/// the leader reads the due part of the replicated expiry index (expiry at most its own clock), at most
/// <see cref="TtlCheckerOptions.MaxInodesPerRound"/> index entries, and proposes them as one
/// <see cref="ExpireTtlCommand"/>; apply re-checks each inode against the entry's time, so a ttl changed
/// meanwhile, a stale read or a command re-proposed after a failover does nothing.
/// </summary>
/// <remarks>
/// Runs on the thread pool, never on the Raft loop: a round is one bounded index read under the state
/// machine's shared lock plus one proposal awaited like a client write, so it competes with client work
/// only as one more writer. Rounds run one at a time (the next waits for the previous proposal). A
/// follower's checker idles; losing leadership cancels the proposal in flight.
/// </remarks>
internal sealed class TtlChecker : IDisposable
{
    private static readonly Caller MasterCaller = CallerIdentity.Create("hamaster-master", ["hamaster"]);

    private readonly MetadataStateMachine _machine;
    private readonly Func<ExpireTtlCommand, CancellationToken, Task<CommandResult>> _propose;
    private readonly TtlCheckerOptions _options;
    private readonly TimeProvider _clock;
    private readonly MasterMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _leadershipGate = new();
    private CancellationTokenSource? _leadership;
    private RaftHost? _host;

    public TtlChecker(
        MetadataStateMachine machine,
        Func<ExpireTtlCommand, CancellationToken, Task<CommandResult>> propose,
        TtlCheckerOptions options,
        TimeProvider clock,
        MasterMetrics? metrics,
        ILogger logger)
    {
        _machine = machine;
        _propose = propose;
        _options = options.Validate();
        _clock = clock;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>The checker of a master: proposes through <paramref name="proposer"/> and follows
    /// <paramref name="host"/>'s leadership.</summary>
    public static TtlChecker ForHost(MetadataStateMachine machine, JournalProposer proposer, RaftHost host, TtlCheckerOptions options, MasterMetrics metrics, ILogger logger)
    {
        var checker = new TtlChecker(
            machine,
            (command, ct) => proposer.ProposeAsync(MasterCaller, null, e => e.ExpireTtl = command, ct),
            options,
            TimeProvider.System,
            metrics,
            logger);
        checker._host = host;
        host.LeadershipChanged += checker.OnLeadershipChanged;
        checker.SetLeader(host.Observed.IsLeader);
        return checker;
    }

    public void Start() => _ = Task.Run(LoopAsync);

    /// <summary>Marks this master leader or not: a lost leadership cancels the round in flight.</summary>
    public void SetLeader(bool isLeader)
    {
        lock (_leadershipGate)
        {
            if (isLeader)
            {
                _leadership ??= new CancellationTokenSource();
            }
            else if (_leadership is { } old)
            {
                _leadership = null;
                old.Cancel();
                old.Dispose();
            }
        }
    }

    /// <summary>
    /// One round: reads at most <see cref="TtlCheckerOptions.MaxInodesPerRound"/> index entries due at this
    /// master's clock and proposes the due ones. Does nothing unless leader. Exceptions of the proposal
    /// (not leader any more, timeout) propagate.
    /// </summary>
    public async Task<TtlRound> RunRoundAsync(CancellationToken cancellationToken)
    {
        CancellationToken leadership;
        lock (_leadershipGate)
        {
            if (_leadership is null) return default;
            leadership = _leadership.Token;
        }

        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var due = _machine.ListDueTtl(now, _options.MaxInodesPerRound);
        if (due.Count == 0) return default;

        var command = new ExpireTtlCommand();
        foreach (var item in due)
        {
            command.Inodes.Add(new ExpiringInode { InodeId = item.InodeId, ExpiryMs = item.ExpiryMs });
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, leadership);
        linked.CancelAfter(_options.ProposalTimeout);
        var result = (await _propose(command, linked.Token).ConfigureAwait(false)).TtlExpiry ?? new TtlExpiryResult();
        if (result.Deleted > 0) _metrics?.TtlExpired("delete", (long)result.Deleted);
        if (result.Freed > 0) _metrics?.TtlExpired("free", (long)result.Freed);
        LogMessages.TtlExpired(_logger, due.Count, (long)result.Deleted, (long)result.Freed, (long)result.Skipped, (long)result.RemovedInodes);
        return new TtlRound(due.Count, result);
    }

    private void OnLeadershipChanged(RaftObservedState state) => SetLeader(state.IsLeader);

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(_options.Interval, _clock);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    await RunRoundAsync(_stopping.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (!_stopping.IsCancellationRequested)
                {
                    // Not leader any more, a timeout, a failover mid-proposal: the next round (here or on
                    // the new leader) reads the index again, and apply skips whatever was already done.
                    LogMessages.TtlRoundFailed(_logger, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose()
    {
        if (_host is { } host) host.LeadershipChanged -= OnLeadershipChanged;
        _stopping.Cancel();
        SetLeader(false);
        _stopping.Dispose();
    }
}

/// <summary>Settings of the TTL checker; immutable, validated.</summary>
internal sealed record TtlCheckerOptions
{
    /// <summary>Time between rounds (default 1 s).</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Most index entries one round examines and proposes (default 1,000): the bound of one round's work,
    /// and with <see cref="Interval"/> the highest expiry rate.</summary>
    public int MaxInodesPerRound { get; init; } = 1000;

    /// <summary>How long one round's proposal may take before the round gives up (default 30 s).</summary>
    public TimeSpan ProposalTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TtlCheckerOptions Validate()
    {
        if (Interval <= TimeSpan.Zero) throw new ArgumentException("TtlCheckIntervalMs must be positive.");
        if (MaxInodesPerRound is < 1 or > 100_000) throw new ArgumentException($"TtlMaxInodesPerRound {MaxInodesPerRound} is outside 1..100000.");
        if (ProposalTimeout <= TimeSpan.Zero) throw new ArgumentException("ProposalTimeout must be positive.");
        return this;
    }
}
