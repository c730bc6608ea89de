using System.Diagnostics;
using HaMaster.Chaos.Cluster;
using HaMaster.Chaos.Core.Faults;
using HaMaster.Chaos.Core.History;
using HaMaster.Chaos.Core.Linearizability;
using HaMaster.Chaos.Core.Models;
using HaMaster.Chaos.Nemesis;
using HaMaster.Chaos.Verification;
using HaMaster.Chaos.Workload;
using HaMaster.Client;

namespace HaMaster.Chaos;

/// <summary>
/// One chaos run from start to verdict: start the masters behind proxies, create the fixed
/// directories, run the clients while the seeded nemesis injects and heals faults, heal
/// everything, wait for the cluster to serve, stop the clients, read the final state into the
/// history, then check linearizability, the ledger, convergence and recovery.
/// </summary>
public static class ChaosRun
{
    public static async Task<ChaosReport> RunAsync(ChaosOptions options, CancellationToken cancellationToken = default)
    {
        options = options.Validate();
        var directory = options.WorkDirectory is { } chosen
            ? Directory.CreateDirectory(chosen).FullName
            : Directory.CreateTempSubdirectory($"hamaster-chaos-{options.Seed}-").FullName;
        var progress = options.Progress;
        progress?.WriteLine($"[chaos] seed {options.Seed}, {options.Masters} masters, faults for {options.Duration}, {options.LibraryClients}+{options.RawClients} clients, in {directory}");

        ChaosReport report;
        await using (var cluster = await ChaosCluster.StartAsync(options, directory))
        {
            report = await RunOnClusterAsync(cluster, options, directory, cancellationToken);
        }

        if (report.Passed && !options.KeepData)
        {
            TryDelete(directory, keep: report.HistoryPath);
        }

        return report;
    }

    private static async Task<ChaosReport> RunOnClusterAsync(ChaosCluster cluster, ChaosOptions options, string directory, CancellationToken cancellationToken)
    {
        var progress = options.Progress;
        var paths = new PathSpace(options.TopDirectories);
        var clients = new List<HaMasterClient>();
        HaMasterClient NewClient(TimeSpan call, TimeSpan budget, int maxAttempts = 40)
        {
            var client = cluster.CreateClient(call, budget, maxAttempts);
            clients.Add(client);
            return client;
        }

        try
        {
            // Before the nemesis starts, a freshly started cluster may still be electing (repeatedly, on a
            // loaded machine): the setup waits for it within its 60 s budget, not within 40 attempts.
            var setup = NewClient(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60), maxAttempts: 1000);
            foreach (var dir in paths.TopLevel.Append(UniqueLedger.Directory).Append("/probe"))
            {
                await setup.CreateDirectoryAsync(dir, recursive: true, cancellationToken: cancellationToken);
            }

            var history = new EventHistory<FsInput, FsOutput>();
            var ledger = new UniqueLedger();
            var workload = new ChaosWorkload(history, paths, ledger, options.ClientThinkTime);
            var library = Enumerable.Range(0, options.LibraryClients)
                .Select(i => (IFsExecutor)new LibraryExecutor($"lib{i}", NewClient(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(12))))
                .ToList();
            var raw = Enumerable.Range(0, options.RawClients)
                .Select(i =>
                {
                    var pick = new Random(HashCode.Combine(options.Seed, "raw", i));
                    return (IFsExecutor)new RawExecutor($"raw{i}", () =>
                    {
                        var live = cluster.Running.Where(m => !m.IsPaused).ToList();
                        var master = live.Count > 0 ? live[pick.Next(live.Count)] : cluster.Masters[pick.Next(cluster.Masters.Count)];
                        return cluster.Channel(master.Id);
                    }, TimeSpan.FromSeconds(3), options.StaleRawReads ? Protos.V1.Consistency.Stale : Protos.V1.Consistency.Linearizable);
                })
                .ToList();

            workload.Start(library, raw, options.Seed);
            var nemesis = new ChaosNemesis(cluster, history, options);
            var schedule = new FaultSchedule<FaultKind>(options.Seed, FaultMenu.Default,
                new FaultScheduleOptions(options.Duration, options.MinGap, options.MaxGap, options.MinHold, options.MaxHold));
            progress?.WriteLine($"[chaos] {schedule.Faults.Count} faults planned");
            await schedule.RunAsync(nemesis.InjectAsync, nemesis.HealAsync, cancellationToken: cancellationToken);

            // Heal everything (nothing should be left, but a failed heal must not poison the checks).
            await cluster.HealAllAsync();
            var final = await nemesis.MeasureRecoveryAsync();
            var violations = new List<string>(nemesis.Violations);
            if (final is null)
            {
                violations.Add($"after the final heal no write was acknowledged within {options.RecoveryBound.TotalSeconds:0} s");
            }

            progress?.WriteLine("[chaos] faults done; stopping clients");
            await workload.StopAsync(TimeSpan.FromSeconds(120));
            var clientsStopped = history.Now;

            var verifier = new FinalState(cluster, workload, paths, NewClient(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30)), progress);
            await verifier.ReadFinalStateAsync();
            try
            {
                violations.AddRange(ledger.CheckFinal(await verifier.ListAsync(UniqueLedger.Directory)));
            }
            catch (HaMasterException e)
            {
                violations.Add($"the final listing of {UniqueLedger.Directory} failed after the heal: {e.Status}: {e.Detail}");
            }

            violations.AddRange(ledger.Violations.Except(violations));
            var (converged, appliedIndex) = await verifier.CheckConvergenceAsync(TimeSpan.FromSeconds(60));
            violations.AddRange(converged);

            var historyPath = Path.Combine(directory, "history.jsonl");
            await history.WriteJsonLinesAsync(historyPath, CancellationToken.None);
            progress?.WriteLine($"[chaos] checking linearizability of {history.Entries().Count} operations (history {historyPath})");
            var checkedOps = HistoryFile.ToOperations(history.Entries().Where(e => !e.Input.Path.StartsWith(UniqueLedger.Directory + "/", StringComparison.Ordinal)));
            var checker = new LinearizabilityChecker<FsState, FsInput, FsOutput>(new FsModel(paths.InitialState()),
                new CheckerOptions(Timeout: options.CheckTimeout, MaxSteps: 500_000_000));
            var clock = Stopwatch.StartNew();
            var result = checker.Check(checkedOps, cancellationToken);
            progress?.WriteLine($"[chaos] linearizability: {result.Verdict} in {clock.Elapsed.TotalSeconds:0.0} s ({result.Steps} steps, {result.Partitions.Count} partitions)");

            var summary = ChaosSummary.From(history, static (input, output) => input.IsMutation && output.Status == FsStatus.Ok, options.Seed, result, historyPath, clientsStopped);
            return new ChaosReport(summary, violations, directory, historyPath,
                nemesis.Recoveries.DefaultIfEmpty(TimeSpan.Zero).Max(), final ?? options.RecoveryBound,
                nemesis.SnapshotInstallsSeen, nemesis.Refused, options.Masters, ledger.Count, appliedIndex, ReplayCommand(options),
                Failover.FaultWriteGaps.From(history, clientsStopped));
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    /// <summary>The command that replays this run's fault plan and workload (timing on a real machine still varies).</summary>
    private static string ReplayCommand(ChaosOptions o) => FormattableString.Invariant(
        $"scripts/chaos.sh --seed {o.Seed} --masters {o.Masters} --duration {o.Duration.TotalSeconds}s --clients {o.LibraryClients} --raw-clients {o.RawClients}{(o.StaleRawReads ? " --stale-reads" : "")}");

    /// <summary>Deletes the run's directory except the history file (kept for the record).</summary>
    private static void TryDelete(string directory, string keep)
    {
        try
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(directory))
            {
                if (entry == keep)
                {
                    continue;
                }

                if (Directory.Exists(entry))
                {
                    Directory.Delete(entry, recursive: true);
                }
                else
                {
                    File.Delete(entry);
                }
            }
        }
        catch (IOException)
        {
            // A file a dying process still holds: the temp cleaner takes it.
        }
    }
}
