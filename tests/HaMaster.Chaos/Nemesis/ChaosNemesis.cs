using System.Collections.Concurrent;
using System.Diagnostics;
using HaMaster.Chaos.Cluster;
using HaMaster.Chaos.Core.Faults;
using HaMaster.Chaos.Core.History;
using HaMaster.Chaos.Core.Models;
using HaMaster.Client;
using HaMaster.Protos.V1;

namespace HaMaster.Chaos.Nemesis;

/// <summary>
/// Injects and heals the faults of a <see cref="FaultSchedule{TKind}"/> against a <see cref="ChaosCluster"/>.
/// Targets are picked from each fault's seeded salt and the cluster's state at that moment
/// (which master leads). After every heal it measures how long the cluster takes to
/// acknowledge a write again; longer than the recovery bound is a violation. Called by the
/// schedule only, one fault at a time; the counters are read after the schedule finished.
/// </summary>
public sealed partial class ChaosNemesis
{
    private readonly ChaosCluster _cluster;
    private readonly EventHistory<FsInput, FsOutput> _history;
    private readonly ChaosOptions _options;
    private readonly HaMasterClient _admin;
    private readonly HaMasterClient _probe;
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly List<TimeSpan> _recoveries = [];
    private readonly Dictionary<int, Action> _pendingHeals = [];
    private readonly Dictionary<int, Func<Task>> _pendingAsyncHeals = [];
    private int _probeNumber;

    public ChaosNemesis(ChaosCluster cluster, EventHistory<FsInput, FsOutput> history, ChaosOptions options)
    {
        _cluster = cluster;
        _history = history;
        _options = options;
        _admin = cluster.CreateClient(TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30));
        _probe = cluster.CreateClient(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4));
    }

    public IReadOnlyCollection<string> Violations => _violations;

    public IReadOnlyList<TimeSpan> Recoveries => _recoveries;

    /// <summary>Snapshot catch-ups where the restarted master logged installing a snapshot.</summary>
    public int SnapshotInstallsSeen { get; private set; }

    /// <summary>Faults whose action the cluster refused (e.g. a membership change during an election): still counted as injected.</summary>
    public int Refused { get; private set; }

    public async ValueTask InjectAsync(ScheduledFault<FaultKind> fault, CancellationToken cancellationToken)
    {
        var random = new Random(fault.Salt);
        string detail;
        try
        {
            detail = await InjectCoreAsync(fault, random);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Refused++;
            detail = $"could not inject: {e.GetType().Name}: {e.Message}";
        }

        _history.RecordFault(fault.Kind.ToString(), detail);
        Say($"fault #{fault.Sequence} {fault.Kind}: {detail} (hold {fault.HoldFor.TotalSeconds:0.0} s)");
    }

    public async ValueTask HealAsync(ScheduledFault<FaultKind> fault, CancellationToken cancellationToken)
    {
        try
        {
            if (_pendingHeals.Remove(fault.Sequence, out var heal))
            {
                heal();
            }

            if (_pendingAsyncHeals.Remove(fault.Sequence, out var asyncHeal))
            {
                await asyncHeal();
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _violations.Enqueue($"healing fault #{fault.Sequence} ({fault.Kind}) failed: {e.GetType().Name}: {e.Message}");
            Say($"heal of #{fault.Sequence} failed: {e.Message}");
        }

        var recovery = await MeasureRecoveryAsync();
        if (recovery is { } took)
        {
            _recoveries.Add(took);
            Say($"  healed #{fault.Sequence}; a write was acknowledged {took.TotalSeconds:0.00} s later");
        }
        else
        {
            _violations.Enqueue($"after healing fault #{fault.Sequence} ({fault.Kind}) no write was acknowledged within {_options.RecoveryBound.TotalSeconds:0} s");
            Say($"  NO RECOVERY within {_options.RecoveryBound.TotalSeconds:0} s after #{fault.Sequence}{Environment.NewLine}{_cluster.Diagnostics()}");
        }
    }

    /// <summary>Writes unique probe files until one is acknowledged; null when the bound passes first.</summary>
    public async Task<TimeSpan?> MeasureRecoveryAsync()
    {
        var clock = Stopwatch.StartNew();
        for (var attempt = 0; attempt < 10_000 && clock.Elapsed < _options.RecoveryBound; attempt++)
        {
            try
            {
                await _probe.CreateFileAsync($"/probe/{Interlocked.Increment(ref _probeNumber)}");
                return clock.Elapsed;
            }
            catch (HaMasterException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50));
            }
        }

        return null;
    }

    private void Say(string line) => _options.Progress?.WriteLine($"[{TimeSpan.FromTicks(_history.Now).TotalSeconds,7:0.0}s] {line}");
}
