using HaMaster.Grpc.Protocol;

namespace HaMaster.Grpc.Tests;

public sealed class ProtocolTests
{
    [Theory]
    [InlineData("1H", 36_000_000_000L)]
    [InlineData("2M", 1_200_000_000L)]
    [InlineData("3S", 30_000_000L)]
    [InlineData("250m", 2_500_000L)]
    [InlineData("1500u", 15_000L)]
    [InlineData("1000n", 10L)]
    [InlineData("1n", 1L)]
    [InlineData("99999999S", 999_999_990_000_000L)]
    public void Parses_every_timeout_unit(string text, long ticks)
    {
        Assert.True(GrpcTimeout.TryParse(text, out var timeout));
        Assert.Equal(ticks, timeout.Ticks);
    }

    [Theory]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("10")]
    [InlineData("10x")]
    [InlineData("-1S")]
    [InlineData("123456789S")]
    [InlineData("1.5S")]
    public void Rejects_malformed_timeouts(string text) => Assert.False(GrpcTimeout.TryParse(text, out _));

    [Theory]
    [InlineData(1, "100n")]
    [InlineData(10_000_000, "1000000u")]
    [InlineData(36_000_000_000_000, "3600000S")]
    [InlineData(36_000_000_000_000_000, "60000000M")]
    public void Formats_timeouts_with_the_finest_unit_that_fits(long ticks, string expected) =>
        Assert.Equal(expected, GrpcTimeout.Format(TimeSpan.FromTicks(ticks)));

    [Fact]
    public void Formatted_timeouts_round_trip_without_shrinking()
    {
        foreach (var ms in new[] { 1, 7, 999, 123_456, 86_400_000 })
        {
            var original = TimeSpan.FromMilliseconds(ms) + TimeSpan.FromTicks(3);
            Assert.True(GrpcTimeout.TryParse(GrpcTimeout.Format(original), out var parsed));
            Assert.True(parsed >= original, $"{original} became {parsed}");
        }
    }

    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("100%", "100%25")]
    [InlineData("é", "%C3%A9")]
    [InlineData("a\nb", "a%0Ab")]
    public void Percent_encodes_status_messages(string message, string wire)
    {
        Assert.Equal(wire, GrpcMessageEncoding.Encode(message));
        Assert.Equal(message, GrpcMessageEncoding.Decode(wire));
    }

    [Fact]
    public void Malformed_percent_escapes_are_kept_literally() =>
        Assert.Equal("50%zz and %4", GrpcMessageEncoding.Decode("50%zz and %4"));

    [Fact]
    public void Metadata_normalises_keys_and_rejects_invalid_ones()
    {
        var metadata = new Metadata { { "X-Trace", "abc" } };
        Assert.Equal("abc", metadata.Get("x-trace"));
        Assert.Throws<ArgumentException>(() => metadata.Add("bad key", "v"));
        Assert.Throws<ArgumentException>(() => metadata.Add("grpc-status", "0"));
        Assert.Throws<ArgumentException>(() => metadata.Add("x-text", "é"));
        metadata.AddBinary("x-blob-bin", [1, 2, 3]);
        Assert.Equal([1, 2, 3], metadata.GetBinary("x-blob-bin"));
    }

    [Theory]
    [InlineData(400, StatusCode.Internal)]
    [InlineData(401, StatusCode.Unauthenticated)]
    [InlineData(403, StatusCode.PermissionDenied)]
    [InlineData(404, StatusCode.Unimplemented)]
    [InlineData(429, StatusCode.Unavailable)]
    [InlineData(502, StatusCode.Unavailable)]
    [InlineData(503, StatusCode.Unavailable)]
    [InlineData(504, StatusCode.Unavailable)]
    [InlineData(500, StatusCode.Unknown)]
    public void Maps_http_status_per_spec(int http, StatusCode expected) =>
        Assert.Equal(expected, GrpcStatusMapper.FromHttpStatus(http));

    [Fact]
    public void Server_exception_mapping_is_in_one_place()
    {
        Assert.Equal(StatusCode.NotFound, GrpcStatusMapper.FromServerException(new GrpcException(StatusCode.NotFound, "x"), false, false, out _).Code);
        Assert.Equal(StatusCode.DeadlineExceeded, GrpcStatusMapper.FromServerException(new OperationCanceledException(), true, false, out _).Code);
        Assert.Equal(StatusCode.Cancelled, GrpcStatusMapper.FromServerException(new OperationCanceledException(), false, true, out _).Code);
        Assert.Equal(StatusCode.InvalidArgument, GrpcStatusMapper.FromServerException(new ArgumentException("bad"), false, false, out _).Code);
        var status = GrpcStatusMapper.FromServerException(new InvalidOperationException("secret"), false, false, out var unexpected);
        Assert.Equal(StatusCode.Internal, status.Code);
        Assert.True(unexpected);
        Assert.DoesNotContain("secret", status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_validate_themselves()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new GrpcServerOptions { MaxReceiveMessageBytes = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new GrpcChannel(new Uri("http://127.0.0.1:1"), new GrpcChannelOptions { ConnectTimeout = TimeSpan.Zero }));
        Assert.Throws<ArgumentException>(() => new GrpcChannel(new Uri("ftp://127.0.0.1:1")));
    }
}
