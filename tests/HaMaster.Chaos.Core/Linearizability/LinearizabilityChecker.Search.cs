namespace HaMaster.Chaos.Core.Linearizability;

public sealed partial class LinearizabilityChecker<TState, TInput, TOutput>
{
    /// <summary>A memo-cache entry: the configuration (which operations are linearized, model state).</summary>
    private readonly record struct Configuration(LinearizedSet Linearized, TState State, int Hash);

    private sealed class ConfigurationComparer(ISequentialModel<TState, TInput, TOutput> model) : IEqualityComparer<Configuration>
    {
        public bool Equals(Configuration x, Configuration y)
            => x.Hash == y.Hash && x.Linearized.SameAs(y.Linearized) && model.StateEquals(x.State, y.State);

        public int GetHashCode(Configuration obj) => obj.Hash;
    }

    /// <summary>A search step taken: the call event linearized, the state before it, and (for unknown operations) the rank of the return that bounded the candidates then.</summary>
    private readonly record struct Choice(int Call, TState StateBefore, int ReturnRank);

    private PartitionResult CheckPartition(int index, IReadOnlyList<Operation<TInput, TOutput>> ops, int[] ids, SearchBudget budget)
    {
        // Two complete searches differing only in when they try unknown-outcome operations
        // (either verdict is final). Eagerly, as early as possible: fast when timed-out
        // operations did happen, but a violation makes it explore every placement of every
        // unknown. Lazily, only when nothing known fits: far fewer placements. The eager one
        // gets a small step allowance first.
        if (_options.EagerUnknownSteps > 0 && ops.Any(op => op.IsUnknown))
        {
            var grant = _options.EagerUnknownSteps + (50L * ops.Count);
            var allowance = budget.Steps > long.MaxValue - grant ? long.MaxValue : budget.Steps + grant;
            var eager = Search(index, ops, ids, budget, lazyUnknowns: false, stepLimit: allowance);
            if (eager.Verdict != LinearizabilityVerdict.Unknown || budget.Spent)
            {
                return eager;
            }
        }

        return Search(index, ops, ids, budget, lazyUnknowns: true, stepLimit: long.MaxValue);
    }

    /// <summary>
    /// The search over one partition. Known operations live in a doubly linked list of call and
    /// return events in time order; a call is a candidate to take effect next when it precedes
    /// the first remaining return. Unknown-outcome operations have no return: they live in a
    /// second list by call time and are candidates when called before that same first return.
    /// With <c>lazyUnknowns</c>, known candidates are tried first and unknown ones only after
    /// (an unknown operation is assumed not to have happened until the history needs it), and
    /// an unknown operation that would change nothing is never tried (anything that could follow
    /// it can follow without it, with it taking effect last). Without it, unknown calls sit in
    /// the known list and are tried in time order like the rest. Either way, once only unknown
    /// operations remain the history is linearizable (they can all take effect at the end, unobserved).
    /// </summary>
    private PartitionResult Search(int index, IReadOnlyList<Operation<TInput, TOutput>> ops, int[] ids, SearchBudget budget, bool lazyUnknowns, long stepLimit)
    {
        var n = ops.Count;
        var order = SortEvents(ops);
        var rank = new int[2 * n];
        for (var r = 0; r < order.Length; r++)
        {
            rank[order[r]] = r;
        }

        // Node 2n heads the known list, node 2n+1 heads the unknown list; -1 ends a list.
        var head = 2 * n;
        var unknownHead = 2 * n + 1;
        var next = new int[2 * n + 2];
        var prev = new int[2 * n + 2];
        var (lastKnown, lastUnknown) = (head, unknownHead);
        var knownLeft = 0;
        foreach (var e in order)
        {
            var op = ops[e >> 1];
            if (op.IsUnknown && lazyUnknowns)
            {
                if ((e & 1) == 0)
                {
                    (next[lastUnknown], prev[e], lastUnknown) = (e, lastUnknown, e);
                }

                continue;
            }

            if (op.IsUnknown && (e & 1) == 1)
            {
                continue;
            }

            knownLeft += op.IsUnknown ? 0 : e & 1;
            (next[lastKnown], prev[e], lastKnown) = (e, lastKnown, e);
        }

        next[lastKnown] = -1;
        next[lastUnknown] = -1;

        void Unlink(int e)
        {
            next[prev[e]] = next[e];
            if (next[e] >= 0)
            {
                prev[next[e]] = prev[e];
            }
        }

        void Relink(int e)
        {
            next[prev[e]] = e;
            if (next[e] >= 0)
            {
                prev[next[e]] = e;
            }
        }

        var cache = new HashSet<Configuration>(new ConfigurationComparer(_model));
        var linearized = new LinearizedSet(n);
        var stack = new Stack<Choice>();
        var state = _model.Init();
        var best = Array.Empty<int>();
        var bestState = state;

        // Cursor: in the known list (entry) or, once its candidates are exhausted, the unknown
        // list (unknownEntry, bounded by returnRank, the rank of the first remaining return).
        var entry = next[head];
        var inUnknown = false;
        var unknownEntry = -1;
        var returnRank = 0;

        // Tries linearizing call event e with next state `after`; true when the configuration is new and was taken.
        bool TryTake(int e, TState after, int boundingReturn)
        {
            linearized.Set(e >> 1);
            var probe = new Configuration(linearized, after, HashCode.Combine(linearized.Hash(), _model.StateHash(after)));
            if (cache.Contains(probe))
            {
                linearized.Clear(e >> 1);
                return false;
            }

            cache.Add(probe with { Linearized = linearized.Clone() });
            stack.Push(new Choice(e, state, boundingReturn));
            state = after;
            Unlink(e);
            if (!ops[e >> 1].IsUnknown)
            {
                Unlink(e + 1);
                knownLeft--;
            }

            if (stack.Count > best.Length)
            {
                best = stack.Select(c => c.Call >> 1).Reverse().ToArray();
                bestState = state;
            }

            entry = next[head];
            inUnknown = false;
            return true;
        }

        while (knownLeft > 0)
        {
            if (budget.Exhausted() || budget.Steps >= stepLimit)
            {
                return Unfinished(index, ops, ids, best, bestState);
            }

            if (!inUnknown)
            {
                if ((entry & 1) == 0)
                {
                    var op = ops[entry >> 1];
                    var (ok, after) = op.IsUnknown ? (true, _model.StepUnknown(state, op.Input)) : _model.Step(state, op.Input, op.Output!);
                    if (!ok || !TryTake(entry, after, 0))
                    {
                        entry = next[entry];
                    }
                }
                else
                {
                    // First remaining return: known candidates exhausted, try unknown ones.
                    inUnknown = true;
                    returnRank = rank[entry];
                    unknownEntry = next[unknownHead];
                }

                continue;
            }

            if (unknownEntry >= 0 && rank[unknownEntry] < returnRank)
            {
                var after = _model.StepUnknown(state, ops[unknownEntry >> 1].Input);
                if (_model.StateEquals(after, state) || !TryTake(unknownEntry, after, returnRank))
                {
                    unknownEntry = next[unknownEntry];
                }

                continue;
            }

            // No candidate fits: undo the last choice and try its successors.
            if (stack.Count == 0)
            {
                return Illegal(index, ops, ids, best, bestState);
            }

            var choice = stack.Pop();
            state = choice.StateBefore;
            linearized.Clear(choice.Call >> 1);
            if (ops[choice.Call >> 1].IsUnknown)
            {
                Relink(choice.Call);
                if (lazyUnknowns)
                {
                    (inUnknown, unknownEntry, returnRank) = (true, next[choice.Call], choice.ReturnRank);
                }
                else
                {
                    (inUnknown, entry) = (false, next[choice.Call]);
                }
            }
            else
            {
                // Restore in the reverse order of unlinking (dancing links).
                Relink(choice.Call + 1);
                Relink(choice.Call);
                knownLeft++;
                (inUnknown, entry) = (false, next[choice.Call]);
            }
        }

        return new PartitionResult(index, LinearizabilityVerdict.Linearizable, n, [], [], string.Empty);
    }

    /// <summary>
    /// Events 0..2n-1 (2i: call of op i, 2i+1: its return) in time order; at equal times calls
    /// come first, so touching intervals count as concurrent (the lenient reading).
    /// </summary>
    private static int[] SortEvents(IReadOnlyList<Operation<TInput, TOutput>> ops)
    {
        var order = new int[2 * ops.Count];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (a, b) =>
        {
            var ta = (a & 1) == 0 ? ops[a >> 1].CallTime : ops[a >> 1].ReturnTime;
            var tb = (b & 1) == 0 ? ops[b >> 1].CallTime : ops[b >> 1].ReturnTime;
            var byTime = ta.CompareTo(tb);
            if (byTime != 0)
            {
                return byTime;
            }

            var byKind = (a & 1).CompareTo(b & 1);
            return byKind != 0 ? byKind : a.CompareTo(b);
        });
        return order;
    }
}
