using HaMaster.Journal;
using HaMaster.Raft;

namespace HaMaster.Server.Tests.Simulation;

// The invariants, checked after every step (and on every applied entry):
// - election safety: at most one leader per term;
// - committed entries never change: every master applies the same entry at an index, and a
//   master's log below its commit index holds exactly the committed entries;
// - state machine safety: every master's state machine is equal at equal applied index;
// - membership: a master's applied configuration is the committed one as of an index at least
//   as new as the last configuration change its state machine applied (never an older one).
internal sealed partial class SimHostCluster
{
    private readonly Dictionary<ulong, ulong> _leaderOfTerm = [];
    private readonly Dictionary<ulong, (ulong Term, ulong Hash)> _committed = [];
    private readonly Dictionary<ulong, ulong> _digestAt = [];
    private readonly SortedDictionary<ulong, ClusterConfig> _configChanges = [];
    private readonly HashSet<ulong> _checkLogOf = [];
    private ulong _maxRecorded;

    internal void OnApplied(SimHostNode node, in Entry e, ulong digest)
    {
        var hash = SimStateMachine.Mix(0, e);
        if (_committed.TryGetValue(e.Index, out var known))
        {
            if (known.Term != e.Term || known.Hash != hash)
            {
                Fail($"master {node.Id} applied entry {e.Index} of term {e.Term}, but entry {e.Index} of term {known.Term} was applied before (a committed entry changed)");
            }
        }
        else
        {
            _committed[e.Index] = (e.Term, hash);
            _maxRecorded = Math.Max(_maxRecorded, e.Index);
            if (e.Type == EntryType.ConfigChange) _configChanges[e.Index] = ConfigTransition.Decode(e.Data.Span).Result;
        }

        if (_digestAt.TryGetValue(e.Index, out var d))
        {
            if (d != digest) Fail($"master {node.Id}'s state machine differs from another's at applied index {e.Index}");
        }
        else
        {
            _digestAt[e.Index] = digest;
        }
    }

    private void CheckInvariants()
    {
        foreach (var n in Nodes)
        {
            if (!n.Up) continue;
            var o = n.Host!.Observed;
            if (o.IsLeader)
            {
                if (_leaderOfTerm.TryGetValue(o.Term, out var other) && other != n.Id)
                {
                    Fail($"two leaders in term {o.Term}: masters {other} and {n.Id}");
                }

                _leaderOfTerm[o.Term] = n.Id;
            }

            var machine = n.Machine!;
            if (_digestAt.TryGetValue(machine.AppliedIndex, out var digest) && digest != machine.Digest)
            {
                Fail($"master {n.Id}'s state machine at applied index {machine.AppliedIndex} differs from another's at that index");
            }

            CheckMembership(n);
            if (_checkLogOf.Contains(n.Id) || Step % 25 == 0) CheckLog(n);
        }

        _checkLogOf.Clear();
    }

    private void CheckMembership(SimHostNode n)
    {
        var host = n.Host!;
        var applied = n.Machine!.AppliedIndex;
        ulong lastChange = 0;
        foreach (var index in _configChanges.Keys)
        {
            if (index > applied) break;
            lastChange = index;
        }

        if (host.AppliedConfigIndex < lastChange)
        {
            Fail($"master {n.Id} applied up to {applied} but runs the membership as of index {host.AppliedConfigIndex} ({host.AppliedConfig}); the configuration changed at {lastChange} ({_configChanges[lastChange]})");
        }

        if (host.AppliedConfigIndex <= _maxRecorded)
        {
            var expected = ConfigAt(host.AppliedConfigIndex);
            if (expected is not null && !expected.Equals(host.AppliedConfig))
            {
                Fail($"master {n.Id} runs {host.AppliedConfig} as of index {host.AppliedConfigIndex}, but the committed configuration there is {expected} (changes at {string.Join(", ", _configChanges.Select(c => $"{c.Key}: {c.Value}"))}; its state machine applied {applied}, incarnation {n.Incarnation})");
            }
        }
    }

    private ClusterConfig? ConfigAt(ulong index)
    {
        ClusterConfig? result = new(Enumerable.Range(1, Options.InitialVoters).Select(i => (ulong)i));
        foreach (var (i, config) in _configChanges)
        {
            if (i > index) break;
            result = config;
        }

        return result;
    }

    /// <summary>The master's durable log below its commit index holds exactly the committed entries.</summary>
    private void CheckLog(SimHostNode n)
    {
        var log = n.Log!;
        var commit = Math.Min(n.Host!.Observed.CommitIndex, log.LastIndex);
        for (var i = Math.Max(log.FirstIndex, 1); i <= commit; i++)
        {
            if (!_committed.TryGetValue(i, out var known)) continue;
            if (log.TryGetTerm(i, out var term) == TermLookup.Found && term != known.Term)
            {
                Fail($"master {n.Id}'s log holds term {term} at index {i}, below its commit index {commit}, where term {known.Term} was committed");
            }
        }
    }

    /// <summary>How to replay this run.</summary>
    public string ReplayCommand =>
        $"HAMASTER_HOSTSIM_SEEDS={Options.Seed}:1{(Options.BugSkipLogTermCheck ? " HAMASTER_HOSTSIM_BUG=skip-log-term-check" : "")}{(Options.BugClusterStateAfterPublish ? " HAMASTER_HOSTSIM_BUG=cluster-state-after-publish" : "")} dotnet test tests/HaMaster.Server.Tests -c Release --filter FullyQualifiedName~HostSimulationTests.Seeds";

    private void Fail(string what) =>
        throw new SimulationFailure($"seed {Options.Seed}, step {Step}: {what}\n  replay: {ReplayCommand}");
}
