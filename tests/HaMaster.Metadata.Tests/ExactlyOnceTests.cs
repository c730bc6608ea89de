using HaMaster.Chaos.Core.Files;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Tests;

public sealed class ExactlyOnceTests
{
    public static TheoryData<string> Kinds => StoreKinds.All;

    private static ClientSession Session(ulong sequence, ulong acknowledged = 0, string client = "client-1") =>
        new() { ClientId = client, Sequence = sequence, AcknowledgedThrough = acknowledged };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ARetriedSequenceHasOneEffectAndTheSameResult(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        var f = new EntryFactory();
        sm.Apply(f, f.Create("/f"));
        var allocate = f.Entry(e => e.AllocateBlock = new() { Path = "/f" }, Session(1));
        var first = sm.Apply(f, allocate);
        var retry = sm.Apply(f, allocate.Clone());
        Assert.Equal(1UL, first.BlockId);
        Assert.Equal(first, retry);
        Assert.Single(sm.GetStatus("/f").Value!.BlockIds);

        // Retry inside the same batch as the original.
        var mkdir = f.Entry(e => e.CreateDirectory = new() { Path = "/d" }, Session(2));
        var results = sm.ApplyBatch([f.Indexed(mkdir), f.Indexed(mkdir.Clone())]);
        Assert.Equal(MetadataStatus.Ok, results[0].Status);
        Assert.Equal(results[0], results[1]);

        // An error result is remembered too (not re-evaluated against the changed state).
        var mkdirAgain = f.Entry(e => e.CreateDirectory = new() { Path = "/d" }, Session(3));
        Assert.Equal(MetadataStatus.AlreadyExists, sm.Apply(f, mkdirAgain).Status);
        sm.Apply(f, f.Delete("/d"));
        Assert.Equal(MetadataStatus.AlreadyExists, sm.Apply(f, mkdirAgain.Clone()).Status);
        Assert.Equal(MetadataStatus.NotFound, sm.GetStatus("/d").Status);

        // Another client with the same sequence number is independent.
        var other = sm.Apply(f, f.Entry(e => e.AllocateBlock = new() { Path = "/f" }, Session(1, client: "client-2")));
        Assert.Equal(2UL, other.BlockId);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(1000)]
    public void SessionsReadThroughABoundedCacheGiveTheSameAnswersAndSurviveReopen(int cachedSessions)
    {
        // Five clients interleave writes and retries while at most `cachedSessions` sessions are cached:
        // evicted, cached and uncached sessions must all answer retries with the stored result.
        using var dir = new TempDirectory();
        var options = new MetastoreOptions { Kind = MetastoreKind.Rocks, SessionCacheMaxEntries = cachedSessions };
        var f = new EntryFactory();
        var firsts = new Dictionary<(int, ulong), (JournalEntry Entry, CommandResult Result)>();
        using (var sm = MetadataStateMachine.Open(dir.Path, options))
        {
            for (ulong seq = 1; seq <= 3; seq++)
            {
                for (var c = 0; c < 5; c++)
                {
                    var entry = f.Entry(e => e.CreateDirectory = new() { Path = $"/c{c}-{seq}" }, Session(seq, seq - 1, $"client-{c}"));
                    var result = sm.Apply(f, entry);
                    Assert.Equal(MetadataStatus.Ok, result.Status);
                    firsts[(c, seq)] = (entry, result);
                }

                for (var c = 4; c >= 0; c--)
                {
                    Assert.Equal(firsts[(c, seq)].Result, sm.Apply(f, firsts[(c, seq)].Entry.Clone()));
                }
            }

            // Acknowledged results are gone whether or not the session was cached.
            Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, firsts[(0, 1)].Entry.Clone()).Status);
        }

        using var reopened = MetadataStateMachine.Open(dir.Path, options);
        for (var c = 0; c < 5; c++)
        {
            Assert.Equal(firsts[(c, 3)].Result, reopened.Apply(f, firsts[(c, 3)].Entry.Clone()));
            Assert.Equal(MetadataStatus.NotFound, reopened.GetStatus($"/c{c}-4").Status);
        }
    }

    [Fact]
    public void ANegativeSessionCacheSizeIsRefusedWithItsName()
    {
        var error = Assert.Throws<ArgumentException>(() => new MetastoreOptions { SessionCacheMaxEntries = -1 }.Validate());
        Assert.Contains("SessionCacheMaxEntries", error.Message, StringComparison.Ordinal);
        using var dir = new TempDirectory();
        Assert.Throws<ArgumentException>(() => MetadataStateMachine.Open(dir.Path, new MetastoreOptions { SessionCacheMaxEntries = -1 }));
    }

    [Fact]
    public void AcknowledgedAndOverflowingResultsAreForgottenWithAClearError()
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, new MetastoreOptions { Kind = MetastoreKind.Heap });
        var f = new EntryFactory();
        JournalEntry Mk(ulong seq, ulong ack) => f.Entry(e => e.CreateDirectory = new() { Path = "/d" + seq }, Session(seq, ack));
        sm.Apply(f, Mk(1, 0));
        sm.Apply(f, Mk(2, 1));
        var stale = sm.Apply(f, Mk(1, 1));
        Assert.Equal(MetadataStatus.FailedPrecondition, stale.Status);
        Assert.Equal("session client-1: sequence 1 was already applied (latest 2) and its result is no longer retained", stale.Message);
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, Mk(2, 1)).Status);

        for (ulong seq = 3; seq < 3 + MetadataStateMachine.SessionResultsPerClient; seq++)
        {
            sm.Apply(f, Mk(seq, 0));
        }

        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, Mk(2, 0)).Status);
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, Mk(3, 0)).Status);
        Assert.Equal(MetadataStatus.InvalidArgument, sm.Apply(f, f.Entry(e => e.CreateDirectory = new() { Path = "/z" }, Session(0))).Status);
    }

    [Fact]
    public void SilentSessionsExpireByEntryTime()
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, new MetastoreOptions { Kind = MetastoreKind.Heap });
        var f = new EntryFactory();
        var mkdir = f.Entry(e => e.CreateDirectory = new() { Path = "/d" }, Session(5));
        sm.Apply(f, mkdir);
        f.TimeMs += MetadataStateMachine.SessionExpiryMs + MetadataStateMachine.SessionSweepIntervalMs;
        sm.Apply(f, f.Mkdir("/other"));

        // The session is gone: the same (client, sequence) is now a new write.
        var again = mkdir.Clone();
        again.TimeMs = f.TimeMs;
        Assert.Equal(MetadataStatus.AlreadyExists, sm.Apply(f, again).Status);
    }
}
