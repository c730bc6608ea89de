namespace HaMaster.Metadata.Tests;

public sealed class InputLimitsTests
{
    [Theory]
    [InlineData("root")]
    [InlineData("alice")]
    [InlineData("svc_1.x-y")]
    [InlineData("machine$")]
    [InlineData("_underscore")]
    [InlineData(".dot")]
    [InlineData("a")]
    [InlineData("abcdefghijklmnopqrstuvwxyz012345")]
    public void Portable_user_names_are_accepted(string name) => Assert.Null(InputLimits.CheckPrincipalName(name, "owner"));

    [Theory]
    [InlineData("", "owner must not be empty")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456", "owner exceeds 32 characters")]
    [InlineData("-root", "owner '-root' must not start with '-'")]
    [InlineData("$", "owner '$' is not a name")]
    [InlineData("a$b", "owner may only contain letters, digits, '.', '_' and '-' (and end with '$'); found '$' at position 1")]
    [InlineData("a b", "owner may only contain letters, digits, '.', '_' and '-' (and end with '$'); found ' ' at position 1")]
    [InlineData("a\0", "owner may only contain letters, digits, '.', '_' and '-' (and end with '$'); found U+0000 at position 1")]
    [InlineData("a\r\n", "owner may only contain letters, digits, '.', '_' and '-' (and end with '$'); found U+000D at position 1")]
    [InlineData("é", "owner may only contain letters, digits, '.', '_' and '-' (and end with '$'); found U+00E9 at position 0")]
    [InlineData("a\uFFFD", "owner may only contain letters, digits, '.', '_' and '-' (and end with '$'); found U+FFFD at position 1")]
    [InlineData("a/b", "owner may only contain letters, digits, '.', '_' and '-' (and end with '$'); found '/' at position 1")]
    public void Names_outside_the_rules_are_refused_with_the_field_and_reason(string name, string message) =>
        Assert.Equal(message, InputLimits.CheckPrincipalName(name, "owner"));

    [Fact]
    public void A_huge_name_is_refused_without_being_echoed()
    {
        var message = InputLimits.CheckPrincipalName(new string('a', 256 << 10), "group");
        Assert.Equal("group exceeds 32 characters", message);
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef")]
    [InlineData("bench-run-1a2b3c4d.3")]
    [InlineData("!~")]
    public void Printable_client_ids_are_accepted(string id) => Assert.Null(InputLimits.CheckClientId(id));

    [Fact]
    public void Client_ids_outside_the_rules_are_refused()
    {
        Assert.Null(InputLimits.CheckClientId(new string('c', 128)));
        Assert.Equal("session.client_id exceeds 128 characters", InputLimits.CheckClientId(new string('c', 129)));
        Assert.Equal("session.client_id must not be empty", InputLimits.CheckClientId(""));
        Assert.Equal("session.client_id must be printable ASCII without spaces; found ' ' at position 1", InputLimits.CheckClientId("a b"));
        Assert.Equal("session.client_id must be printable ASCII without spaces; found U+007F at position 0", InputLimits.CheckClientId("\u007F"));
        Assert.Equal("session.client_id must be printable ASCII without spaces; found U+00FF at position 0", InputLimits.CheckClientId("\u00FF"));
    }

    [Theory]
    [InlineData(0UL, true)]
    [InlineData(1UL, false)]
    [InlineData(1023UL, false)]
    [InlineData(1024UL, true)]
    [InlineData(64UL << 20, true)]
    [InlineData(1UL << 40, true)]
    [InlineData((1UL << 40) + 1, false)]
    [InlineData(ulong.MaxValue, false)]
    public void Block_sizes_are_zero_or_1_KiB_to_1_TiB(ulong size, bool valid)
    {
        var message = InputLimits.CheckBlockSize(size);
        Assert.Equal(valid, message is null);
        if (!valid) Assert.StartsWith($"block_size_bytes {size} is outside", message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_largest_file_cannot_overflow_block_offset_arithmetic()
    {
        // Offsets are index * block size, and a length is compared with blocks * block size.
        Assert.Equal(1UL << 60, InputLimits.MaxFileLengthBytes);
        Assert.True(InputLimits.MaxFileLengthBytes <= ulong.MaxValue / 2);
        Assert.Equal(InputLimits.MaxBlockSizeBytes * (ulong)InputLimits.MaxBlocksPerFile, checked(InputLimits.MaxBlockSizeBytes * (ulong)InputLimits.MaxBlocksPerFile));
    }

    [Theory]
    [InlineData(0L, true)]
    [InlineData(1L, true)]
    [InlineData(InputLimits.MaxTtlMs, true)]
    [InlineData(InputLimits.MaxTtlMs + 1, false)]
    [InlineData(-1L, false)]
    [InlineData(long.MaxValue, false)]
    [InlineData(long.MinValue, false)]
    public void Ttl_is_0_to_100_years(long ttl, bool valid) => Assert.Equal(valid, InputLimits.CheckTtl(ttl) is null);

    [Fact]
    public void The_largest_ttl_added_to_any_realistic_creation_time_fits_64_bits()
    {
        var year9999 = new DateTimeOffset(9999, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        Assert.True(checked(year9999 + InputLimits.MaxTtlMs) > year9999);
    }

    [Theory]
    [InlineData(0u, true)]
    [InlineData(0x1EDu, true)]
    [InlineData(0xFFFu, true)]
    [InlineData(0x1000u, false)]
    [InlineData(uint.MaxValue, false)]
    public void Mode_is_at_most_07777(uint mode, bool valid) => Assert.Equal(valid, InputLimits.CheckMode(mode) is null);

    [Fact]
    public void Tier_names_follow_the_name_characters()
    {
        Assert.Null(InputLimits.CheckTierName("MEM", "tier"));
        Assert.Null(InputLimits.CheckTierName("", "medium", optional: true));
        Assert.Equal("tier must not be empty", InputLimits.CheckTierName("", "tier"));
        Assert.Equal("tier exceeds 32 characters", InputLimits.CheckTierName(new string('T', 33), "tier"));
        Assert.Equal("tier may only contain letters, digits, '.', '_' and '-'; found U+000A at position 3", InputLimits.CheckTierName("SSD\n", "tier"));
    }
}
