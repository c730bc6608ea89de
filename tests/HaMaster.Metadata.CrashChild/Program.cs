using HaMaster.Metadata;
using HaMaster.Metadata.CrashChild;

// Usage: HaMaster.Metadata.CrashChild <dataDir> <cacheEntries>
// Applies CrashLog batches from the stored applied index on, printing "applied <index>" after each
// batch returns, until killed (or a bounded number of entries is reached).
var options = new MetastoreOptions { Kind = MetastoreKind.Rocks, InodeCacheMaxEntries = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) };
using var sm = MetadataStateMachine.Open(args[0], options);
Console.Out.Flush();
for (var round = 0; round < 100_000; round++)
{
    var next = sm.AppliedIndex + 1;
    sm.ApplyBatch(CrashLog.Batch(next, CrashLog.BatchSize));
    Console.WriteLine($"applied {sm.AppliedIndex}");
    Console.Out.Flush();
}
