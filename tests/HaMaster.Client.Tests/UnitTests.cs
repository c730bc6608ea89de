using HaMaster.Cli;

namespace HaMaster.Client.Tests;

public sealed class WriteSessionSequencerTests
{
    [Fact]
    public void A_sequential_caller_numbers_writes_on_one_session()
    {
        var sequencer = new WriteSessionSequencer("c");
        for (ulong i = 1; i <= 3; i++)
        {
            var session = sequencer.Next();
            Assert.Equal(("c", i, i - 1), (session.ClientId, session.Sequence, session.AcknowledgedThrough));
            sequencer.Complete(session);
        }

        Assert.Equal(1, sequencer.LaneCount);
        Assert.Equal(0, sequencer.Outstanding);
    }

    [Fact]
    public void Concurrent_writes_get_separate_lanes_that_are_reused()
    {
        var sequencer = new WriteSessionSequencer("c");
        var a = sequencer.Next();
        var b = sequencer.Next();
        Assert.Equal("c", a.ClientId);
        Assert.Equal("c.1", b.ClientId);
        Assert.Equal(1UL, b.Sequence);
        Assert.Equal(2, sequencer.Outstanding);

        sequencer.Complete(b);
        var c = sequencer.Next();
        Assert.Equal(("c.1", 2UL, 1UL), (c.ClientId, c.Sequence, c.AcknowledgedThrough));

        // Completing twice, or completing a stale session, does not free a busy lane.
        sequencer.Complete(b);
        Assert.Equal(2, sequencer.Outstanding);
        sequencer.Complete(a);
        sequencer.Complete(c);
        Assert.Equal(0, sequencer.Outstanding);
        Assert.Equal(2, sequencer.LaneCount);
    }

    [Fact]
    public async Task Each_lane_has_one_write_outstanding_and_strictly_increasing_sequences()
    {
        var sequencer = new WriteSessionSequencer("c");
        var issued = new System.Collections.Concurrent.ConcurrentQueue<(string Id, ulong Sequence, ulong Acked)>();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                var s = sequencer.Next();
                issued.Enqueue((s.ClientId, s.Sequence, s.AcknowledgedThrough));
                sequencer.Complete(s);
            }
        })));

        Assert.Equal(4000, issued.Count);
        Assert.InRange(sequencer.LaneCount, 1, 4);
        foreach (var lane in issued.GroupBy(s => s.Id))
        {
            var sequences = lane.Select(s => s.Sequence).Order().ToList();
            Assert.Equal(Enumerable.Range(1, sequences.Count).Select(i => (ulong)i), sequences);
            Assert.All(lane, s => Assert.Equal(s.Sequence - 1, s.Acked));
        }
    }
}

public sealed class OptionsAndParsingTests
{
    [Fact]
    public void Options_validate_themselves()
    {
        Assert.Throws<ArgumentException>(() => new HaMasterClient(new HaMasterClientOptions()));
        Assert.Throws<ArgumentException>(() => new HaMasterClientOptions { Seeds = ["nohost"] }.Validate());
        Assert.Throws<ArgumentException>(() => new HaMasterClientOptions { Seeds = ["a:1"], MaxAttempts = 0 }.Validate());
        Assert.Throws<ArgumentException>(() => new HaMasterClientOptions { Seeds = ["a:1"], CallTimeout = TimeSpan.Zero }.Validate());
        Assert.Throws<ArgumentException>(() => new HaMasterClientOptions { Seeds = ["a:1"], Groups = ["a,b"] }.Validate());
        Assert.Throws<ArgumentException>(() => new HaMasterClientOptions { Seeds = ["a:1"], MaxBackoff = TimeSpan.FromMilliseconds(1) }.Validate());
        Assert.Throws<ArgumentException>(() => new HaMasterClientOptions { Seeds = ["a:1"], BearerToken = "" }.Validate());
        Assert.Throws<ArgumentException>(() => new HaMasterClientOptions { Seeds = ["a:1"], BearerToken = "two words" }.Validate());
        new HaMasterClientOptions { Seeds = ["a:1"], BearerToken = "eyJh.eyJz.c2ln" }.Validate();
        var valid = new HaMasterClientOptions { Seeds = ["127.0.0.1:19200"] }.Validate();
        Assert.Equal(TimeSpan.FromSeconds(10), valid.CallTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), valid.TotalRetryBudget);
    }

    [Theory]
    [InlineData("127.0.0.1:19200", "127.0.0.1:19200")]
    [InlineData("http://localhost:80/", "localhost:80")]
    [InlineData(" master-1.svc:7000 ", "master-1.svc:7000")]
    public void Endpoints_normalise(string input, string expected) => Assert.Equal(expected, MasterEndpoint.Normalize(input));

    [Theory]
    [InlineData("")]
    [InlineData("host")]
    [InlineData("host:0")]
    [InlineData("host:70000")]
    [InlineData(":80")]
    public void Bad_endpoints_are_rejected(string input) => Assert.False(MasterEndpoint.TryNormalize(input, out _));

    [Theory]
    [InlineData("250ms", 0.25)]
    [InlineData("10s", 10)]
    [InlineData("2m", 120)]
    [InlineData("3", 3)]
    public void Durations_parse(string text, double seconds) => Assert.Equal(TimeSpan.FromSeconds(seconds), Duration.Parse(text));

    [Fact]
    public void Bad_durations_are_rejected()
    {
        Assert.False(Duration.TryParse("ten", out _));
        Assert.False(Duration.TryParse("-1s", out _));
        Assert.False(Duration.TryParse("", out _));
    }

    [Fact]
    public void Zero_durations_parse_only_where_allowed()
    {
        Assert.False(Duration.TryParse("0s", out _));
        Assert.Equal(TimeSpan.Zero, Duration.ParseAllowingZero("0s", "--warmup"));
        Assert.Equal(TimeSpan.FromMilliseconds(500), Duration.ParseAllowingZero("500ms", "--warmup"));
        var error = Assert.Throws<FormatException>(() => Duration.ParseAllowingZero("-1s", "--warmup"));
        Assert.Contains("--warmup", error.Message);
    }

    [Fact]
    public void Text_tables_align_columns_and_right_align_numbers()
    {
        var table = new TextTable("ID", "NAME", "COUNT");
        table.AddRow("1", "a", "5").AddRow("12", "long-name", "1234");
        using var writer = new StringWriter();
        table.WriteTo(writer);
        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal("ID  NAME       COUNT", lines[0]);
        Assert.Equal(" 1  a              5", lines[1]);
        Assert.Equal("12  long-name   1234", lines[2]);
    }
}
