using System.Buffers.Binary;
using HaMaster.Raft;
using HaMaster.Server.Raft;

namespace HaMaster.Server.Tests.Simulation;

/// <summary>
/// A small state machine for the host simulation: a running digest over every applied entry
/// (index, term, type, data), so two masters that applied different entries at the same index
/// differ. Like RocksDB without a synced WAL, an applied batch becomes durable only when the
/// simulation says so (<paramref name="persistNow"/>); a crash loses what was not, and the
/// master replays it from its log. Restoring a snapshot is durable at once (an atomic swap).
/// </summary>
internal sealed class SimStateMachine : IStateMachineHost<ulong?>
{
    private const string StateFile = "machine.state";
    private readonly string _path;
    private readonly Func<bool> _persistNow;
    private readonly Action<Entry, ulong> _onApplied;

    public SimStateMachine(string directory, Func<bool> persistNow, Action<Entry, ulong> onApplied)
    {
        Directory.CreateDirectory(directory);
        _path = Path.Combine(directory, StateFile);
        _persistNow = persistNow;
        _onApplied = onApplied;
        if (File.Exists(_path)) (AppliedIndex, AppliedTerm, Digest) = Decode(File.ReadAllBytes(_path));
    }

    public ulong AppliedIndex { get; private set; }

    public ulong AppliedTerm { get; private set; }

    /// <summary>Digest of everything applied, as of <see cref="AppliedIndex"/>.</summary>
    public ulong Digest { get; private set; }

    public void Apply(IReadOnlyList<Entry> entries, List<AppliedResult<ulong?>> results)
    {
        foreach (var e in entries)
        {
            if (e.Index <= AppliedIndex) continue;
            if (e.Index != AppliedIndex + 1) throw new InvalidOperationException($"gap in apply: {AppliedIndex} then {e.Index}");
            Digest = Mix(Digest, e);
            AppliedIndex = e.Index;
            AppliedTerm = e.Term;
            // As the metadata host: every applied entry answers whoever proposed it (commands with a value).
            var command = e.Type == EntryType.Normal && !e.Data.IsEmpty && e.Data.Span[0] == SimHostCluster.CommandTag;
            results.Add(new AppliedResult<ulong?>(e.Index, e.Term, command ? e.Index : null));

            _onApplied(e, Digest);
        }

        if (_persistNow()) Persist();
    }

    public (ulong Index, ulong Term) CreateSnapshot(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, StateFile), Encode(AppliedIndex, AppliedTerm, Digest));
        return (AppliedIndex, AppliedTerm);
    }

    public void RestoreSnapshot(string directory)
    {
        (AppliedIndex, AppliedTerm, Digest) = Decode(File.ReadAllBytes(Path.Combine(directory, StateFile)));
        Persist();
    }

    private void Persist()
    {
        var temp = _path + ".tmp";
        File.WriteAllBytes(temp, Encode(AppliedIndex, AppliedTerm, Digest));
        File.Move(temp, _path, overwrite: true);
    }

    public static ulong Mix(ulong digest, in Entry e)
    {
        var h = digest ^ 0x9E3779B97F4A7C15UL;
        h = Step(h, e.Index);
        h = Step(h, e.Term);
        h = Step(h, (ulong)e.Type);
        foreach (var b in e.Data.Span) h = Step(h, b);
        return h;

        static ulong Step(ulong h, ulong v) => (h ^ v) * 0x100000001B3UL + (h >> 29);
    }

    private static byte[] Encode(ulong index, ulong term, ulong digest)
    {
        var bytes = new byte[24];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, index);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), term);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16), digest);
        return bytes;
    }

    private static (ulong, ulong, ulong) Decode(byte[] bytes) =>
        (BinaryPrimitives.ReadUInt64LittleEndian(bytes), BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8)), BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(16)));
}
