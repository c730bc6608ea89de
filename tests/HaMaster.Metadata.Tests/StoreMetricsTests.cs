using HaMaster.Chaos.Core.Files;
namespace HaMaster.Metadata.Tests;

public sealed class StoreMetricsTests
{
    [Fact]
    public void RocksMemoryCountsMemtablesAndIsZeroForTheHeapStore()
    {
        using var dir = new TempDirectory();
        using (var rocks = MetadataStateMachine.Open(Path.Combine(dir.Path, "rocks"), new MetastoreOptions { Kind = MetastoreKind.Rocks }))
        {
            var before = rocks.RocksMemoryBytes;
            var f = new EntryFactory();
            for (var i = 0; i < 200; i++)
            {
                rocks.Apply(f, f.Create($"/file-{i:D4}"));
            }

            Assert.True(rocks.RocksMemoryBytes > before, $"memtables should grow with writes ({before} -> {rocks.RocksMemoryBytes})");
        }

        using var heap = MetadataStateMachine.Open(Path.Combine(dir.Path, "heap"), new MetastoreOptions { Kind = MetastoreKind.Heap });
        Assert.Equal(0, heap.RocksMemoryBytes);
    }
}
