using HaMaster.Grpc.Http2.Hpack;
using static HaMaster.Grpc.Tests.Http2.HpackBlocks;

namespace HaMaster.Grpc.Tests.Http2;

/// <summary>RFC 7541 Appendix C examples, byte for byte, plus the decoder's error handling.</summary>
public sealed class HpackDecoderTests
{
    private static readonly (string, string)[] Request1 =
        [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")];

    private static readonly (string, string)[] Request2 =
        [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"), ("cache-control", "no-cache")];

    private static readonly (string, string)[] Request3 =
        [(":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"), ("custom-key", "custom-value")];

    private static readonly (string, string)[] Response1 =
        [(":status", "302"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")];

    private static readonly (string, string)[] Response2 =
        [(":status", "307"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")];

    private static readonly (string, string)[] Response3 =
    [
        (":status", "200"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
        ("location", "https://www.example.com"), ("content-encoding", "gzip"),
        ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"),
    ];

    [Fact]
    public void C2_1_literal_with_indexing_enters_the_table()
    {
        var decoder = new HpackDecoder();
        var fields = Decode(decoder, Hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
        Assert.Equal([("custom-key", "custom-header")], fields);
        Assert.Equal(55, decoder.DynamicTableSize);
        Assert.Equal([("custom-key", "custom-header")], DynamicTable(decoder));
    }

    [Fact]
    public void C2_2_literal_without_indexing_leaves_the_table_empty()
    {
        var decoder = new HpackDecoder();
        Assert.Equal([(":path", "/sample/path")], Decode(decoder, Hex("040c 2f73 616d 706c 652f 7061 7468")));
        Assert.Equal(0, decoder.DynamicTableCount);
        Assert.Equal(0, decoder.DynamicTableSize);
    }

    [Fact]
    public void C2_3_literal_never_indexed_leaves_the_table_empty()
    {
        var decoder = new HpackDecoder();
        Assert.Equal([("password", "secret")], Decode(decoder, Hex("1008 7061 7373 776f 7264 0673 6563 7265 74")));
        Assert.Equal(0, decoder.DynamicTableCount);
    }

    [Fact]
    public void C2_4_indexed_field_from_the_static_table()
    {
        var decoder = new HpackDecoder();
        Assert.Equal([(":method", "GET")], Decode(decoder, Hex("82")));
        Assert.Equal(0, decoder.DynamicTableCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void C3_and_C4_request_sequence(bool huffman)
    {
        string[] blocks = huffman
            ? ["8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", "8286 84be 5886 a8eb 1064 9cbf", "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"]
            : ["8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", "8286 84be 5808 6e6f 2d63 6163 6865", "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"];
        var decoder = new HpackDecoder();

        Assert.Equal(Request1, Decode(decoder, Hex(blocks[0])));
        Assert.Equal([(":authority", "www.example.com")], DynamicTable(decoder));
        Assert.Equal(57, decoder.DynamicTableSize);

        Assert.Equal(Request2, Decode(decoder, Hex(blocks[1])));
        Assert.Equal([("cache-control", "no-cache"), (":authority", "www.example.com")], DynamicTable(decoder));
        Assert.Equal(110, decoder.DynamicTableSize);

        Assert.Equal(Request3, Decode(decoder, Hex(blocks[2])));
        Assert.Equal([("custom-key", "custom-value"), ("cache-control", "no-cache"), (":authority", "www.example.com")], DynamicTable(decoder));
        Assert.Equal(164, decoder.DynamicTableSize);
        Assert.Equal(3, decoder.DynamicTableCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void C5_and_C6_response_sequence_with_eviction(bool huffman)
    {
        string[] blocks = huffman
            ?
            [
                "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
                "4883 640e ffc1 c0bf",
                "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
            ]
            :
            [
                "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
                "4803 3330 37c1 c0bf",
                "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
            ];
        var decoder = new HpackDecoder(maxDynamicTableSize: 256);

        Assert.Equal(Response1, Decode(decoder, Hex(blocks[0])));
        Assert.Equal(
            [("location", "https://www.example.com"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("cache-control", "private"), (":status", "302")],
            DynamicTable(decoder));
        Assert.Equal(222, decoder.DynamicTableSize);

        // ":status: 307" evicts ":status: 302".
        Assert.Equal(Response2, Decode(decoder, Hex(blocks[1])));
        Assert.Equal(
            [(":status", "307"), ("location", "https://www.example.com"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("cache-control", "private")],
            DynamicTable(decoder));
        Assert.Equal(222, decoder.DynamicTableSize);

        Assert.Equal(Response3, Decode(decoder, Hex(blocks[2])));
        Assert.Equal(
            [("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"), ("content-encoding", "gzip"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT")],
            DynamicTable(decoder));
        Assert.Equal(215, decoder.DynamicTableSize);
        Assert.Equal(3, decoder.DynamicTableCount);
    }

    [Fact]
    public void Size_update_at_the_start_evicts_and_later_entries_use_the_new_limit()
    {
        var decoder = new HpackDecoder();
        Decode(decoder, Hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"));
        Assert.Equal(1, decoder.DynamicTableCount);

        // Size update to 0 then back to 4096 (3f e1 1f = 31 + 97 + 31 * 128), then a field.
        Assert.Equal([(":method", "GET")], Decode(decoder, Hex("20 3fe11f 82")));
        Assert.Equal(0, decoder.DynamicTableCount);
        Assert.Equal(0, decoder.DynamicTableSize);

        // Limit 60: the 57-octet entry fits, a second one evicts it.
        Decode(decoder, Hex("3f1d") /* 31 + 29 = 60 */);
        Decode(decoder, Hex("4103 6162 63") /* :authority: abc, 45 octets */);
        Decode(decoder, Hex("4103 7879 7a") /* :authority: xyz */);
        Assert.Equal([(":authority", "xyz")], DynamicTable(decoder));
        Assert.Equal(45, decoder.DynamicTableSize);
    }

    [Fact]
    public void Entry_larger_than_the_table_empties_it_and_is_not_added()
    {
        var decoder = new HpackDecoder(maxDynamicTableSize: 64);
        Decode(decoder, Hex("4103 6162 63"));
        Assert.Equal(1, decoder.DynamicTableCount);

        var value = new string('v', 40); // 10 + 40 + 32 = 82 > 64
        var fields = Decode(decoder, [0x41, 40, .. System.Text.Encoding.ASCII.GetBytes(value)]);
        Assert.Equal([(":authority", value)], fields);
        Assert.Equal(0, decoder.DynamicTableCount);
        Assert.Equal(0, decoder.DynamicTableSize);
    }

    [Fact]
    public void Literal_may_name_the_entry_its_insertion_evicts()
    {
        // Table holds exactly one entry; a new field indexes the name of that entry (62) and evicts it.
        var decoder = new HpackDecoder(maxDynamicTableSize: 50);
        Decode(decoder, Hex("4003 6b65 7903 6f6e 65") /* key: one, 38 octets */);
        var fields = Decode(decoder, Hex("7e03 7477 6f") /* name index 62, value "two" */);
        Assert.Equal([("key", "two")], fields);
        Assert.Equal([("key", "two")], DynamicTable(decoder));
        Assert.Equal(38, decoder.DynamicTableSize);
    }

    [Fact]
    public void Many_insertions_wrap_the_table_and_keep_newest_first_order()
    {
        var decoder = new HpackDecoder(maxDynamicTableSize: 4096);
        for (var i = 0; i < 200; i++)
        {
            // name "k", value = 3 digits: 1 + 3 + 32 = 36 octets, so 113 entries fit in 4096.
            Decode(decoder, [0x40, 0x01, (byte)'k', 0x03, .. System.Text.Encoding.ASCII.GetBytes(i.ToString("D3", System.Globalization.CultureInfo.InvariantCulture))]);
        }

        Assert.Equal(113, decoder.DynamicTableCount);
        Assert.Equal(113 * 36, decoder.DynamicTableSize);
        Assert.Equal([("k", "199")], Decode(decoder, [0xBE]));
        Assert.Equal([("k", "087")], Decode(decoder, [0xFF, 62 + 112 - 127]));
        Assert.Throws<HpackException>(() => Decode(decoder, [0xFF, 62 + 113 - 127]));
    }

    [Fact]
    public void Huffman_round_trips_every_byte_value()
    {
        var all = new byte[256];
        for (var i = 0; i < 256; i++)
        {
            all[i] = (byte)i;
            var single = HuffmanTestEncoder.Encode([(byte)i]);
            var output = new byte[8];
            Assert.Equal(1, HpackHuffman.Decode(single, output));
            Assert.Equal((byte)i, output[0]);
        }

        var decoder = new HpackDecoder();
        var block = HuffmanLiteralBlock("x"u8.ToArray(), all);
        var sink = new CapturingSink();
        decoder.Decode(block, sink);
        Assert.Equal("x"u8.ToArray(), sink.Name);
        Assert.Equal(all, sink.Value);
    }

    [Theory]
    [InlineData("f1e3 c2e5 f23a 6ba0 ab90 f4ff", "www.example.com")]
    [InlineData("6402", "302")]
    [InlineData("9bd9 ab", "gzip")]
    [InlineData("", "")]
    [InlineData("1f", "a")] // 00011 + 111 padding
    public void Huffman_decodes_known_strings(string hex, string expected)
    {
        var output = new byte[64];
        var length = HpackHuffman.Decode(Hex(hex), output);
        Assert.Equal(expected, System.Text.Encoding.Latin1.GetString(output, 0, length));
    }

    [Fact]
    public void Huffman_rejects_eos_inside_the_data()
    {
        // 'a' then EOS (30 ones) then 5 padding ones = 40 bits.
        var bits = new HuffmanTestEncoder.BitWriter();
        bits.Write(HuffmanTestEncoder.Codes['a'], HuffmanTestEncoder.Lengths['a']);
        bits.Write(HuffmanTestEncoder.Codes[256], 30);
        var data = bits.Finish(padBits: 5, padWithOnes: true);
        Assert.Throws<HpackException>(() => HpackHuffman.Decode(data, new byte[64]));

        // EOS alone, padded to 32 bits.
        Assert.Throws<HpackException>(() => HpackHuffman.Decode(Hex("ffff ffff"), new byte[64]));
    }

    [Theory]
    [InlineData("1fff")] // 'a' + 11 one bits of padding
    [InlineData("ff")] // 8 one bits of padding, no symbol
    [InlineData("18")] // 'a' + padding 000
    [InlineData("1e")] // 'a' + padding 110
    public void Huffman_rejects_bad_padding(string hex)
    {
        Assert.Throws<HpackException>(() => HpackHuffman.Decode(Hex(hex), new byte[64]));
        var block = new List<byte> { 0x00, 0x01, (byte)'x' };
        AppendString(block, Hex(hex), huffman: true);
        Assert.Throws<HpackException>(() => new HpackDecoder().Decode(block.ToArray(), new RecordingSink()));
    }

    [Theory]
    [InlineData("ff")] // indexed, 7-bit prefix full, no continuation
    [InlineData("ff 80")] // continuation byte promises more
    [InlineData("3f")] // size update prefix full
    [InlineData("40")] // literal with indexing, no name string
    [InlineData("40 0a 6375")] // name string shorter than its length
    [InlineData("04")] // indexed name, no value
    [InlineData("04 03 6162")] // value shorter than its length
    [InlineData("00 7f")] // name length integer truncated
    [InlineData("04 8a f1e3")] // Huffman value shorter than its length
    public void Truncated_blocks_are_rejected(string hex)
    {
        Assert.Throws<HpackException>(() => new HpackDecoder().Decode(Hex(hex), new RecordingSink()));
    }

    [Theory]
    [InlineData("ff ff ff ff ff 7f")] // 127 + 2^35-ish > int.MaxValue
    [InlineData("ff 80 80 80 80 80 80 01")] // too many continuation bytes
    [InlineData("04 7f ff ff ff ff 0f")] // string length overflow
    public void Oversized_integers_are_rejected(string hex)
    {
        Assert.Throws<HpackException>(() => new HpackDecoder().Decode(Hex(hex), new RecordingSink()));
    }

    [Fact]
    public void Index_zero_is_rejected() =>
        Assert.Throws<HpackException>(() => new HpackDecoder().Decode([0x80], new RecordingSink()));

    [Theory]
    [InlineData("be")] // indexed 62, empty dynamic table
    [InlineData("ff 00")] // indexed 127
    [InlineData("7e 00")] // literal with indexing, name index 62
    [InlineData("0f 2f 00")] // without indexing, name index 62
    [InlineData("1f 2f 00")] // never indexed, name index 62
    public void Index_beyond_the_tables_is_rejected(string hex)
    {
        Assert.Throws<HpackException>(() => new HpackDecoder().Decode(Hex(hex), new RecordingSink()));
        Assert.Equal([("www-authenticate", "")], Decode(new HpackDecoder(), Hex("bd"))); // 61, the last static entry, is fine
    }

    [Fact]
    public void Size_update_above_the_limit_is_rejected()
    {
        // 3f e1 01 = 31 + 97 + 128 = 256; 3f e2 01 = 257.
        var decoder = new HpackDecoder(maxDynamicTableSize: 256);
        Assert.Empty(Decode(decoder, Hex("3fe101")));
        Assert.Throws<HpackException>(() => Decode(decoder, Hex("3fe201")));
    }

    [Fact]
    public void Size_update_after_a_field_is_rejected()
    {
        Assert.Throws<HpackException>(() => Decode(new HpackDecoder(), Hex("82 20")));
        Assert.Equal([(":method", "GET")], Decode(new HpackDecoder(), Hex("20 20 82")));
    }

    [Fact]
    public void Strings_over_the_limit_are_rejected_raw_and_huffman()
    {
        // Raw name "custom-key" (10 octets).
        var raw = Hex("400a 6375 7374 6f6d 2d6b 6579 00");
        Assert.Throws<HpackException>(() => Decode(new HpackDecoder(maxStringLength: 9), raw));
        Assert.Equal([("custom-key", "")], Decode(new HpackDecoder(maxStringLength: 10), raw));

        // Raw value.
        Assert.Throws<HpackException>(() => Decode(new HpackDecoder(maxStringLength: 2), Hex("04 03 616263")));

        // Huffman value "www.example.com" (12 coded octets, 15 decoded).
        var huffman = Hex("0f10 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"); // content-type (name index 31)
        Assert.Throws<HpackException>(() => Decode(new HpackDecoder(maxStringLength: 14), huffman));
        Assert.Equal([("content-type", "www.example.com")], Decode(new HpackDecoder(maxStringLength: 15), huffman));
    }

    [Fact]
    public void Decoder_handles_huffman_name_and_value_in_the_same_field()
    {
        var block = HuffmanLiteralBlock("custom-key"u8.ToArray(), "custom-value"u8.ToArray());
        Assert.Equal([("custom-key", "custom-value")], Decode(new HpackDecoder(), block));
    }

    [Fact]
    public void Random_and_mutated_blocks_fail_only_with_HpackException()
    {
        var random = new Random(7541);
        var seeds = new[]
        {
            Hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"),
            Hex("4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133"),
        };
        for (var i = 0; i < 3000; i++)
        {
            byte[] block;
            if (i % 2 == 0)
            {
                block = new byte[random.Next(0, 48)];
                random.NextBytes(block);
            }
            else
            {
                block = (byte[])seeds[i % seeds.Length].Clone();
                block[random.Next(block.Length)] = (byte)random.Next(256);
                block = block[..random.Next(block.Length + 1)];
            }

            try
            {
                new HpackDecoder(maxDynamicTableSize: 256, maxStringLength: 1024).Decode(block, new RecordingSink());
            }
            catch (HpackException)
            {
                // Expected for most inputs; any other exception type fails the test.
            }
        }
    }

    [Fact]
    public void Static_and_raw_literal_fields_decode_without_allocating()
    {
        var decoder = new HpackDecoder();
        var block = Hex("8286 84 0f10 10 6170 706c 6963 6174 696f 6e2f 6772 7063 000b 6772 7063 2d73 7461 7475 7301 30");
        var sink = new CountingSink();
        decoder.Decode(block, sink);
        decoder.Decode(block, sink);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            decoder.Decode(block, sink);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(102 * 5, sink.Count);
    }

    private sealed class CountingSink : IHpackHeaderSink
    {
        public int Count { get; private set; }

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => Count++;
    }

    private sealed class CapturingSink : IHpackHeaderSink
    {
        public byte[] Name { get; private set; } = [];

        public byte[] Value { get; private set; } = [];

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
            Name = name.ToArray();
            Value = value.ToArray();
        }
    }
}
