using HaMaster.Chaos.Core.Files;
using HaMaster.Metadata.Queries;
using HaMaster.Metadata.Store;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Tests;

/// <summary>
/// The read side on its own (issue 20): bad input is refused before the shared lock is taken,
/// listings page by name with the options' limits, and each read is one pass under the lock.
/// </summary>
public sealed class NamespaceReadsTests
{
    private static readonly MetastoreOptions SmallPages = new() { Kind = MetastoreKind.Heap, DefaultListLimit = 2, MaxListLimit = 3 };

    /// <summary>Counts the reads that reached the store (each one holds the state machine's shared lock).</summary>
    private sealed class CountingReader(IMetastoreReader inner) : IMetastoreReader
    {
        public int Reads { get; private set; }

        public T Read<T>(Func<Metastore, T> read)
        {
            Reads++;
            return inner.Read(read);
        }
    }

    private static (MetadataStateMachine Machine, CountingReader Reader, NamespaceReads Reads) Open(TempDirectory dir)
    {
        var sm = MetadataStateMachine.Open(dir.Path, SmallPages);
        var f = new EntryFactory();
        sm.Apply(f, f.Mkdir("/d"));
        foreach (var name in new[] { "c", "a", "e", "b", "d" }) sm.Apply(f, f.Create("/d/" + name));
        var reader = new CountingReader(sm);
        return (sm, reader, new NamespaceReads(reader, SmallPages));
    }

    [Theory]
    [InlineData("relative")]
    [InlineData("/a//b")]
    [InlineData("")]
    public void An_invalid_path_is_refused_without_touching_the_store(string path)
    {
        using var dir = new TempDirectory();
        var (sm, reader, reads) = Open(dir);
        using var _ = sm;

        Assert.Equal(MetadataStatus.InvalidArgument, reads.GetStatus(path).Status);
        Assert.Equal(MetadataStatus.InvalidArgument, reads.ListStatus(path).Status);
        Assert.Equal(MetadataStatus.InvalidArgument, reads.GetFileBlockInfo(path).Status);
        Assert.Equal(MetadataStatus.InvalidArgument, reads.GetLoadState(path).Status);
        Assert.Equal(0, reader.Reads);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("..")]
    public void A_page_token_that_is_not_a_name_is_refused_without_touching_the_store(string token)
    {
        using var dir = new TempDirectory();
        var (sm, reader, reads) = Open(dir);
        using var _ = sm;

        var result = reads.ListStatus("/d", 0, token);

        Assert.Equal(MetadataStatus.InvalidArgument, result.Status);
        Assert.Contains("page token", result.Message, StringComparison.Ordinal);
        Assert.Equal(0, reader.Reads);
    }

    [Fact]
    public void Listing_pages_by_name_with_the_default_limit_and_caps_a_larger_one()
    {
        using var dir = new TempDirectory();
        var (sm, reader, reads) = Open(dir);
        using var _ = sm;

        var first = reads.ListStatus("/d").Value!;
        Assert.Equal(["a", "b"], first.Entries.Select(e => e.Name));
        Assert.Equal("b", first.NextPageToken);
        var capped = reads.ListStatus("/d", 1000, first.NextPageToken).Value!;
        Assert.Equal(["c", "d", "e"], capped.Entries.Select(e => e.Name));
        Assert.Equal("", capped.NextPageToken);
        Assert.Equal(2, reader.Reads); // one pass under the lock per page
    }

    [Fact]
    public void Reads_of_missing_things_say_what_is_missing()
    {
        using var dir = new TempDirectory();
        var (sm, _, reads) = Open(dir);
        using var __ = sm;

        Assert.Equal(MetadataStatus.NotFound, reads.GetStatus("/nope").Status);
        Assert.Equal(MetadataStatus.FailedPrecondition, reads.GetFileBlockInfo("/d").Status);
        var block = reads.GetBlockInfo(424242);
        Assert.Equal(MetadataStatus.NotFound, block.Status);
        Assert.Contains("424242", block.Message, StringComparison.Ordinal);
        Assert.Null(reads.GetWorker(7));
        Assert.Null(reads.FindWorkerByAddress("nowhere:1"));
        var load = reads.GetLoadState("/d/a/below").Value!;
        Assert.True(load.BlockedByFile);
        Assert.False(load.Exists);
    }
}
