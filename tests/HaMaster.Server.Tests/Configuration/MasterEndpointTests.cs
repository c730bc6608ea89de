using HaMaster.Server.Configuration;

namespace HaMaster.Server.Tests.Configuration;

public sealed class MasterEndpointTests
{
    [Theory]
    [InlineData("1=h:1/h:2/h:3", 1UL, "h:1", "h:2", "h:3")]
    [InlineData("42=10.0.0.1:19200/10.0.0.1:19300", 42UL, "10.0.0.1:19200", "10.0.0.1:19300", "")]
    [InlineData("7= a:1 / b:2 / c:3 ", 7UL, "a:1", "b:2", "c:3")]
    [InlineData("3=[::1]:19200/[::1]:19300/[::1]:19400", 3UL, "[::1]:19200", "[::1]:19300", "[::1]:19400")]
    [InlineData("18446744073709551615=h:65535/h:1", ulong.MaxValue, "h:65535", "h:1", "")]
    public void Parse_accepts_good_members(string text, ulong id, string client, string peer, string web) =>
        Assert.Equal(new MasterEndpoint(id, client, peer, web), MasterEndpoint.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("h:1/h:2")]
    [InlineData("=h:1/h:2")]
    [InlineData("0=h:1/h:2")]
    [InlineData("x=h:1/h:2")]
    [InlineData("-1=h:1/h:2")]
    [InlineData(" 1=h:1/h:2")]
    [InlineData("18446744073709551616=h:1/h:2")]
    [InlineData("1=h:1")]
    [InlineData("1=h:1/h:2/h:3/h:4")]
    [InlineData("1=h:1/h")]
    [InlineData("1=h:1/h:0")]
    [InlineData("1=h:1/h:65536")]
    [InlineData("1=h:1/:2")]
    [InlineData("1=h:1/h:2/")]
    [InlineData("1=h:1//h:3")]
    public void Parse_refuses_bad_members_naming_the_text(string text)
    {
        var e = Assert.Throws<FormatException>(() => MasterEndpoint.Parse(text));
        Assert.Contains($"'{text}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("id=clientHost:port/peerHost:port[/webHost:port]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_null_throws_argument_null() => Assert.Throws<ArgumentNullException>(() => MasterEndpoint.Parse(null!));

    [Theory]
    [InlineData(null, 0)]
    [InlineData("", 0)]
    [InlineData("  ", 0)]
    [InlineData("1=a:1/a:2", 1)]
    [InlineData(" 1=a:1/a:2 , 2=b:1/b:2/b:3 ,", 2)]
    [InlineData("1=a:1/a:2,,2=b:1/b:2", 2)]
    public void ParseList_splits_on_commas_and_skips_blanks(string? text, int count) =>
        Assert.Equal(count, MasterEndpoint.ParseList(text).Count);

    [Fact]
    public void ParseList_keeps_order_and_fails_on_any_bad_member()
    {
        Assert.Equal([3UL, 1UL, 2UL], MasterEndpoint.ParseList("3=c:1/c:2,1=a:1/a:2,2=b:1/b:2").Select(m => m.Id));
        Assert.Throws<FormatException>(() => MasterEndpoint.ParseList("1=a:1/a:2,2=b:1"));
    }

    [Theory]
    [InlineData("h:1", true)]
    [InlineData("host.example:65535", true)]
    [InlineData("10.1.2.3:19200", true)]
    [InlineData("[::1]:80", true)]
    [InlineData("h:0", false)]
    [InlineData("h:65536", false)]
    [InlineData("h:-1", false)]
    [InlineData("h:+1", false)]
    [InlineData("h: 1", false)]
    [InlineData("h:1 ", false)]
    [InlineData("h:", false)]
    [InlineData(":80", false)]
    [InlineData("h", false)]
    [InlineData("", false)]
    [InlineData("h:http", false)]
    public void IsHostPort(string value, bool expected) => Assert.Equal(expected, MasterEndpoint.IsHostPort(value));

    [Fact]
    public void ToString_round_trips_through_Parse_with_a_web_address()
    {
        var e = new MasterEndpoint(5, "a:1", "b:2", "c:3");
        Assert.Equal("5=a:1/b:2/c:3", e.ToString());
        Assert.Equal(e, MasterEndpoint.Parse(e.ToString()));
    }

    [Fact]
    public void ToString_round_trips_through_Parse_without_a_web_address()
    {
        var e = new MasterEndpoint(5, "a:1", "b:2", "");
        Assert.Equal(e, MasterEndpoint.Parse(e.ToString()));
    }
}
