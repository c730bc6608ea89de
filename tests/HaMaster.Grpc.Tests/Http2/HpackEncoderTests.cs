using System.Text;
using HaMaster.Grpc.Http2.Hpack;
using static HaMaster.Grpc.Tests.Http2.HpackBlocks;

namespace HaMaster.Grpc.Tests.Http2;

public sealed class HpackEncoderTests
{
    [Theory]
    [InlineData(200, 0x88)]
    [InlineData(204, 0x89)]
    [InlineData(206, 0x8A)]
    [InlineData(304, 0x8B)]
    [InlineData(400, 0x8C)]
    [InlineData(404, 0x8D)]
    [InlineData(500, 0x8E)]
    public void Static_statuses_are_one_indexed_byte(int status, byte expected)
    {
        var buffer = new byte[8];
        Assert.Equal(1, HpackEncoder.WriteStatus(status, buffer));
        Assert.Equal(expected, buffer[0]);
        Assert.Equal([(":status", status.ToString(System.Globalization.CultureInfo.InvariantCulture))], Decode(new HpackDecoder(), buffer[..1]));
        Assert.Equal(-1, HpackEncoder.WriteStatus(status, []));
    }

    [Theory]
    [InlineData(429)]
    [InlineData(100)]
    [InlineData(503)]
    [InlineData(999)]
    public void Other_statuses_are_literals_with_the_status_name_index(int status)
    {
        var buffer = new byte[8];
        Assert.Equal(5, HpackEncoder.WriteStatus(status, buffer));
        var text = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal([0x08, 0x03, .. Encoding.ASCII.GetBytes(text)], buffer[..5]);

        var decoder = new HpackDecoder();
        Assert.Equal([(":status", text)], Decode(decoder, buffer[..5]));
        Assert.Equal(0, decoder.DynamicTableCount);

        for (var size = 0; size < 5; size++)
        {
            Assert.Equal(-1, HpackEncoder.WriteStatus(status, new byte[size]));
        }
    }

    [Theory]
    [InlineData(99)]
    [InlineData(1000)]
    [InlineData(-200)]
    public void Statuses_outside_three_digits_are_refused(int status) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => HpackEncoder.WriteStatus(status, new byte[8]));

    [Fact]
    public void Static_name_uses_its_index_with_a_multi_byte_prefix()
    {
        // content-type is static index 31: 4-bit prefix 15 + continuation 16.
        var buffer = new byte[64];
        var written = HpackEncoder.WriteHeader("content-type", "application/grpc", buffer);
        Assert.Equal([0x0F, 0x10, 0x10, .. "application/grpc"u8.ToArray()], buffer[..written]);
        Assert.Equal(HpackEncoder.MaxEncodedLength("content-type", "application/grpc"), written);
    }

    [Fact]
    public void Static_name_below_fifteen_fits_the_prefix()
    {
        // :authority is static index 1.
        var buffer = new byte[64];
        var written = HpackEncoder.WriteHeader(":authority", "h", buffer);
        Assert.Equal(new byte[] { 0x01, 0x01, (byte)'h' }, buffer[..written]);
    }

    [Fact]
    public void Unknown_name_is_a_literal_name()
    {
        var buffer = new byte[64];
        var written = HpackEncoder.WriteHeader("grpc-status", "0", buffer);
        Assert.Equal([0x00, 0x0B, .. "grpc-status"u8.ToArray(), 0x01, (byte)'0'], buffer[..written]);
        Assert.Equal(HpackEncoder.MaxEncodedLength("grpc-status", "0"), written);
    }

    [Theory]
    [InlineData("content-type", "application/grpc+proto")]
    [InlineData("grpc-status", "14")]
    [InlineData("grpc-message", "")]
    [InlineData("", "empty-name")]
    [InlineData("x-latin1", "caf\u00e9 \u00ff\u0080")]
    [InlineData("www-authenticate", "Bearer")]
    [InlineData("accept-encoding", "identity")]
    public void Every_output_decodes_back(string name, string value)
    {
        var length = HpackEncoder.MaxEncodedLength(name, value);
        var buffer = new byte[length];
        Assert.Equal(length, HpackEncoder.WriteHeader(name, value, buffer));

        var decoder = new HpackDecoder();
        Assert.Equal([(name, value)], Decode(decoder, buffer));
        Assert.Equal(0, decoder.DynamicTableCount);
    }

    [Fact]
    public void Long_names_and_values_use_multi_byte_lengths_and_decode_back()
    {
        var name = "x-" + new string('n', 200);
        var value = new string('v', 70_000);
        var length = HpackEncoder.MaxEncodedLength(name, value);
        var buffer = new byte[length];
        Assert.Equal(length, HpackEncoder.WriteHeader(name, value, buffer));
        Assert.Equal([(name, value)], Decode(new HpackDecoder(maxStringLength: 70_000), buffer));
    }

    [Fact]
    public void Response_block_of_several_fields_decodes_in_order()
    {
        var buffer = new byte[256];
        var pos = HpackEncoder.WriteStatus(200, buffer);
        pos += HpackEncoder.WriteHeader("content-type", "application/grpc", buffer.AsSpan(pos));
        pos += HpackEncoder.WriteHeader("grpc-encoding", "identity", buffer.AsSpan(pos));
        Assert.Equal(
            [(":status", "200"), ("content-type", "application/grpc"), ("grpc-encoding", "identity")],
            Decode(new HpackDecoder(), buffer[..pos]));
    }

    [Theory]
    [InlineData("content-type", "application/grpc")]
    [InlineData("grpc-status", "0")]
    [InlineData("x-long", "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789")]
    public void Too_small_destinations_return_minus_one(string name, string value)
    {
        var needed = HpackEncoder.MaxEncodedLength(name, value);
        for (var size = 0; size < needed; size++)
        {
            Assert.Equal(-1, HpackEncoder.WriteHeader(name, value, new byte[size]));
        }

        Assert.Equal(needed, HpackEncoder.WriteHeader(name, value, new byte[needed]));
    }

    [Fact]
    public void Characters_above_latin1_are_refused()
    {
        Assert.Throws<ArgumentException>(() => HpackEncoder.WriteHeader("x-name", "\u0100", new byte[64]));
        Assert.Throws<ArgumentException>(() => HpackEncoder.WriteHeader("x-\u4e2d", "v", new byte[64]));
    }
}
