using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Tests;

internal static class StoreKinds
{
    public static readonly TheoryData<string> All = new() { "rocks", "heap", "caching-tiny" };

    public static MetastoreOptions Options(string kind) => kind switch
    {
        "rocks" => new MetastoreOptions { Kind = MetastoreKind.Rocks, InodeCacheMaxEntries = 0, SessionCacheMaxEntries = 0 },
        "heap" => new MetastoreOptions { Kind = MetastoreKind.Heap },
        "caching-tiny" => new MetastoreOptions { Kind = MetastoreKind.Rocks, InodeCacheMaxEntries = 3, SessionCacheMaxEntries = 2 },
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}

/// <summary>Builds journal entries the way a leader would (time, caller and session fixed up front).</summary>
internal sealed class EntryFactory
{
    private ulong _index;

    public long TimeMs { get; set; } = 1_700_000_000_000;

    public Caller Caller { get; set; } = new() { User = "alice", Groups = { "staff", "dev" } };

    public ulong NextIndex => _index + 1;

    public JournalEntry Entry(Action<JournalEntry> fill, ClientSession? session = null)
    {
        var entry = new JournalEntry { TimeMs = TimeMs, Caller = Caller.Clone(), DefaultBlockSizeBytes = 1024, Session = session };
        fill(entry);
        TimeMs += 7;
        return entry;
    }

    public (ulong, ulong, JournalEntry) Indexed(JournalEntry entry) => (++_index, 3, entry);

    public JournalEntry Mkdir(string path, bool recursive = false, uint mode = 0) => Entry(e => e.CreateDirectory = new() { Path = path, Recursive = recursive, Mode = mode });

    public JournalEntry Create(string path, bool recursive = false, uint mode = 0, ulong blockSize = 0) =>
        Entry(e => e.CreateFile = new() { Path = path, Recursive = recursive, Mode = mode, BlockSizeBytes = blockSize });

    public JournalEntry Complete(string path, ulong length) => Entry(e => e.CompleteFile = new() { Path = path, Length = length });

    public JournalEntry Delete(string path, bool recursive = false) => Entry(e => e.Delete = new() { Path = path, Recursive = recursive });

    public JournalEntry Rename(string src, string dst) => Entry(e => e.Rename = new() { SrcPath = src, DstPath = dst });

    public JournalEntry Allocate(string path) => Entry(e => e.AllocateBlock = new() { Path = path });

    public JournalEntry Register(string address, params ulong[] blocks) => Entry(e =>
    {
        e.RegisterWorker = new() { Address = address, TierOfReportedBlocks = "SSD" };
        e.RegisterWorker.Tiers.Add(new TierUsage { Tier = "MEM", CapacityBytes = 1 << 30 });
        e.RegisterWorker.Tiers.Add(new TierUsage { Tier = "SSD", CapacityBytes = 1L << 40 });
        e.RegisterWorker.BlockIds.AddRange(blocks);
    });

    public JournalEntry Commit(ulong worker, ulong block, ulong length, string tier = "MEM") =>
        Entry(e => e.CommitBlock = new() { WorkerId = worker, BlockId = block, Length = length, Tier = tier, Medium = "ram", UsedBytesOnTier = length * 2 });

    public JournalEntry Lost(ulong worker) => Entry(e => e.MarkWorkerLost = new() { WorkerId = worker });
}

internal static class StateMachineExtensions
{
    public static CommandResult Apply(this MetadataStateMachine sm, EntryFactory f, JournalEntry entry) =>
        sm.ApplyBatch([f.Indexed(entry)])[0];
}
