using System.Collections.Immutable;
using HaMaster.Chaos.Core.Linearizability;

namespace HaMaster.Chaos.Core.Models;

public enum KvOpKind
{
    Read,
    Write,
    CompareAndSet,
}

/// <summary>A register operation on <see cref="Key"/>: read, write <see cref="Value"/>, or set <see cref="Value"/> if the current value is <see cref="Expected"/> (null = absent).</summary>
public sealed record KvInput(KvOpKind Kind, string Key, string? Value = null, string? Expected = null)
{
    public static KvInput Read(string key) => new(KvOpKind.Read, key);
    public static KvInput Write(string key, string value) => new(KvOpKind.Write, key, value);
    public static KvInput Cas(string key, string? expected, string value) => new(KvOpKind.CompareAndSet, key, value, expected);

    public override string ToString() => Kind switch
    {
        KvOpKind.Read => $"read {Key}",
        KvOpKind.Write => $"write {Key}={Value}",
        _ => $"cas {Key} {Expected ?? "<absent>"}->{Value}",
    };
}

/// <summary>A read's value (null = absent), or whether a compare-and-set succeeded; writes answer <see cref="Done"/>.</summary>
public sealed record KvOutput(string? Value = null, bool Succeeded = true)
{
    public static KvOutput Done { get; } = new();
    public static KvOutput Read(string? value) => new(value);
    public static KvOutput Cas(bool succeeded) => new(Succeeded: succeeded);

    public override string ToString() => Value ?? (Succeeded ? "ok" : "fail");
}

/// <summary>
/// A map of linearizable registers, partitioned per key (registers are independent).
/// The state is the whole map so the model is also correct when checked unpartitioned.
/// </summary>
public sealed class KvModel(bool partitionByKey = true) : ISequentialModel<ImmutableSortedDictionary<string, string>, KvInput, KvOutput>
{
    public ImmutableSortedDictionary<string, string> Init() => ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal);

    public (bool Ok, ImmutableSortedDictionary<string, string> Next) Step(ImmutableSortedDictionary<string, string> state, KvInput input, KvOutput output)
    {
        var current = state.GetValueOrDefault(input.Key);
        return input.Kind switch
        {
            KvOpKind.Read => (output.Value == current, state),
            KvOpKind.Write => (true, state.SetItem(input.Key, input.Value!)),
            _ => current == input.Expected
                ? (output.Succeeded, state.SetItem(input.Key, input.Value!))
                : (!output.Succeeded, state),
        };
    }

    public ImmutableSortedDictionary<string, string> StepUnknown(ImmutableSortedDictionary<string, string> state, KvInput input)
        => input.Kind switch
        {
            KvOpKind.Read => state,
            KvOpKind.Write => state.SetItem(input.Key, input.Value!),
            _ => state.GetValueOrDefault(input.Key) == input.Expected ? state.SetItem(input.Key, input.Value!) : state,
        };

    public bool IsReadOnly(KvInput input) => input.Kind == KvOpKind.Read;

    public bool StateEquals(ImmutableSortedDictionary<string, string> a, ImmutableSortedDictionary<string, string> b)
        => ReferenceEquals(a, b) || (a.Count == b.Count && a.SequenceEqual(b));

    public int StateHash(ImmutableSortedDictionary<string, string> state)
    {
        var hash = new HashCode();
        foreach (var (key, value) in state)
        {
            hash.Add(key);
            hash.Add(value);
        }

        return hash.ToHashCode();
    }

    public IReadOnlyList<IReadOnlyList<Operation<KvInput, KvOutput>>> Partition(IReadOnlyList<Operation<KvInput, KvOutput>> history)
        => partitionByKey
            ? history.GroupBy(op => op.Input.Key, StringComparer.Ordinal).Select(g => (IReadOnlyList<Operation<KvInput, KvOutput>>)g.ToArray()).ToArray()
            : [history];

    public string DescribeState(ImmutableSortedDictionary<string, string> state)
        => "{" + string.Join(", ", state.Select(kv => $"{kv.Key}={kv.Value}")) + "}";
}
