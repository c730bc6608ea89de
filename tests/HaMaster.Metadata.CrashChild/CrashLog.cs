using HaMaster.Protos.V1;

namespace HaMaster.Metadata.CrashChild;

/// <summary>The deterministic log both the child and the test regenerate: entry i (1-based) creates
/// /d{i/64}/f{i} (with parents), every 5th allocates a block, every 7th deletes an earlier file.</summary>
public static class CrashLog
{
    public const int BatchSize = 32;

    public static JournalEntry Entry(ulong index)
    {
        var entry = new JournalEntry { TimeMs = 1_000 + (long)index, Caller = new Caller { User = "crash", Groups = { "test" } }, DefaultBlockSizeBytes = 4096 };
        if (index % 7 == 0 && index > 14)
        {
            var victim = index - 10;
            entry.Delete = new DeleteRequest { Path = $"/d{victim / 64}/f{victim}" };
        }
        else if (index % 5 == 0)
        {
            var file = index - 1;
            entry.AllocateBlock = new GetNewBlockIdForFileRequest { Path = $"/d{file / 64}/f{file}" };
        }
        else
        {
            entry.CreateFile = new CreateFileRequest { Path = $"/d{index / 64}/f{index}", Recursive = true };
        }

        return entry;
    }

    public static List<(ulong Index, ulong Term, JournalEntry Entry)> Batch(ulong firstIndex, int count) =>
        Enumerable.Range(0, count).Select(i => (firstIndex + (ulong)i, 1UL, Entry(firstIndex + (ulong)i))).ToList();
}
