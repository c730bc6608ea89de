using System.Collections.Immutable;
using HaMaster.Chaos.Core.Linearizability;
using HaMaster.Chaos.Core.Models;

namespace HaMaster.Chaos.Core.Tests;

/// <summary>
/// Histories generated from a real sequential execution, each operation's interval drawn
/// around its true linearization point: always linearizable. A changed output in a history
/// without overlaps is always observable (the order is forced), so it must be rejected.
/// </summary>
public sealed class RandomizedHistoryTests
{
    private static readonly string[] Paths = ["/a", "/b", "/a/x", "/a/y", "/b/x", "/a/x/z"];
    private static readonly int[] Modes = [FsInput.DefaultFileMode, 384, 448];

    private static FsInput RandomInput(Random random)
    {
        var path = Paths[random.Next(Paths.Length)];
        return random.Next(10) switch
        {
            0 or 1 => FsInput.Mkdir(path),
            2 => FsInput.CreateFile(path),
            3 => FsInput.Delete(path),
            4 => FsInput.Rename(path, Paths[random.Next(Paths.Length)]),
            5 => FsInput.SetMode(path, Modes[random.Next(Modes.Length)]),
            6 or 7 => FsInput.GetStatus(path),
            8 => FsInput.List(path),
            _ => FsInput.List("/a"),
        };
    }

    /// <summary>Generates <paramref name="count"/> operations; <paramref name="spread"/> 0 means strictly sequential intervals.</summary>
    private static List<Operation<FsInput, FsOutput>> Generate(Random random, int count, int spread, double unknownShare)
    {
        var state = FsState.Empty;
        var ops = new List<Operation<FsInput, FsOutput>>();
        for (var i = 0; i < count; i++)
        {
            var input = RandomInput(random);
            (state, var output) = FsModel.Apply(state, input);
            long point = 10 * (i + 1);
            var call = point - random.Next(spread + 1) * 10 - 1;
            var ret = point + random.Next(spread + 1) * 10 + 1;
            var client = random.Next(5);
            ops.Add(random.NextDouble() < unknownShare
                ? Operation.Unknown<FsInput, FsOutput>(client, input, call)
                : Operation.Completed(client, input, call, output, ret));
        }

        return ops;
    }

    private static LinearizabilityResult Check(IReadOnlyList<Operation<FsInput, FsOutput>> history)
        => new LinearizabilityChecker<FsState, FsInput, FsOutput>(new FsModel(), new CheckerOptions(TimeSpan.FromSeconds(20))).Check(history);

    /// <summary>The three ways of handling unknown outcomes: default (eager then lazy), lazy only, eager only.</summary>
    private static readonly CheckerOptions[] Strategies =
    [
        new(TimeSpan.FromSeconds(20)),
        new(TimeSpan.FromSeconds(20), EagerUnknownSteps: 0),
        new(TimeSpan.FromSeconds(20), EagerUnknownSteps: long.MaxValue),
    ];

    [Theory]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    public void Every_strategy_for_unknown_outcomes_reaches_the_same_verdict(int seed)
    {
        var random = new Random(seed);
        var rejected = 0;
        for (var round = 0; round < 15; round++)
        {
            var history = Generate(random, count: 40, spread: 2, unknownShare: 0.25);
            if (round % 2 == 1)
            {
                // Forge an answer; whether that is observable depends on the overlaps, so only agreement is asserted.
                var victim = history.FindIndex(op => !op.IsUnknown);
                var op = history[victim];
                history[victim] = Operation.Completed(op.ClientId, op.Input, op.CallTime, Mutate(random, op.Output!), op.ReturnTime);
            }

            var verdicts = Strategies
                .Select(o => new LinearizabilityChecker<FsState, FsInput, FsOutput>(new FsModel(), o).Check(history).Verdict)
                .ToArray();
            Assert.All(verdicts, v => Assert.Equal(round % 2 == 0 ? LinearizabilityVerdict.Linearizable : verdicts[0], v));
            Assert.NotEqual(LinearizabilityVerdict.Unknown, verdicts[0]);
            rejected += verdicts[0] == LinearizabilityVerdict.NotLinearizable ? 1 : 0;
        }

        Assert.True(rejected >= 2, $"only {rejected} of 7 forged histories were rejected: the test lost its teeth");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Histories_from_a_sequential_execution_with_overlaps_are_accepted(int seed)
    {
        var random = new Random(seed);
        for (var round = 0; round < 20; round++)
        {
            var history = Generate(random, count: 60, spread: 3, unknownShare: 0.1);
            var result = Check(history);
            Assert.True(result.IsLinearizable, $"seed {seed} round {round}: {result.Explain()}");
        }
    }

    private static FsOutput Mutate(Random random, FsOutput original)
    {
        FsOutput[] candidates =
        [
            FsOutput.Ok,
            FsOutput.Of(FsStatus.NotFound),
            FsOutput.Of(FsStatus.AlreadyExists),
            FsOutput.Found(FsKind.File, 384),
            FsOutput.Found(FsKind.Directory, FsInput.DefaultDirectoryMode),
            FsOutput.Listing([]),
            FsOutput.Listing(["x"]),
        ];
        while (true)
        {
            var candidate = candidates[random.Next(candidates.Length)];
            if (!candidate.Equals(original))
            {
                return candidate;
            }
        }
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void A_changed_output_in_a_sequential_history_is_rejected(int seed)
    {
        var random = new Random(seed);
        for (var round = 0; round < 30; round++)
        {
            var history = Generate(random, count: 40, spread: 0, unknownShare: 0);
            Assert.True(Check(history).IsLinearizable);
            var victim = random.Next(history.Count);
            var op = history[victim];
            history[victim] = Operation.Completed(op.ClientId, op.Input, op.CallTime, Mutate(random, op.Output!), op.ReturnTime);
            var result = Check(history);
            Assert.Equal(LinearizabilityVerdict.NotLinearizable, result.Verdict);
            Assert.Contains(victim, result.Partitions[^1].Frontier);
        }
    }

    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    public void An_impossible_answer_in_a_concurrent_history_is_rejected(int seed)
    {
        var random = new Random(seed);
        for (var round = 0; round < 20; round++)
        {
            var history = Generate(random, count: 60, spread: 3, unknownShare: 0.1);
            var victim = history.FindIndex(op => !op.IsUnknown && op.Input.Kind == FsOpKind.GetStatus);
            if (victim < 0)
            {
                continue;
            }

            // No operation ever sets mode 0111: a stat reporting it can never be linearized.
            var op = history[victim];
            history[victim] = Operation.Completed(op.ClientId, op.Input, op.CallTime, FsOutput.Found(FsKind.File, 73), op.ReturnTime);
            Assert.Equal(LinearizabilityVerdict.NotLinearizable, Check(history).Verdict);
        }
    }

    [Fact]
    public void Register_histories_with_overlaps_are_accepted_and_a_forged_read_rejected()
    {
        var random = new Random(7);
        var checker = new LinearizabilityChecker<ImmutableSortedDictionary<string, string>, KvInput, KvOutput>(new KvModel());
        for (var round = 0; round < 20; round++)
        {
            var model = new KvModel();
            var state = model.Init();
            var ops = new List<Operation<KvInput, KvOutput>>();
            for (var i = 0; i < 200; i++)
            {
                var key = $"k{random.Next(3)}";
                var current = state.GetValueOrDefault(key);
                KvInput input = random.Next(3) switch
                {
                    0 => KvInput.Read(key),
                    1 => KvInput.Write(key, i.ToString()),
                    _ => KvInput.Cas(key, random.Next(2) == 0 ? current : "nope", i.ToString()),
                };
                KvOutput output = input.Kind switch
                {
                    KvOpKind.Read => KvOutput.Read(current),
                    KvOpKind.Write => KvOutput.Done,
                    _ => KvOutput.Cas(current == input.Expected),
                };
                state = model.StepUnknown(state, input);
                long point = 10 * (i + 1);
                ops.Add(Operation.Completed(random.Next(4), input, point - random.Next(4) * 10 - 1, output, point + random.Next(4) * 10 + 1));
            }

            Assert.True(checker.Check(ops).IsLinearizable);
            var read = ops.FindIndex(o => o.Input.Kind == KvOpKind.Read);
            var forged = ops[read];
            ops[read] = Operation.Completed(forged.ClientId, forged.Input, forged.CallTime, KvOutput.Read("never"), forged.ReturnTime);
            Assert.False(checker.Check(ops).IsLinearizable);
        }
    }
}
