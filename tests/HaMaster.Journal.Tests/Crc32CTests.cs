using System.Text;

namespace HaMaster.Journal.Tests;

public class Crc32CTests
{
    [Fact]
    public void Matches_the_standard_check_value()
    {
        // RFC 3720 / the CRC catalogue: CRC-32C("123456789") = 0xE3069283.
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Fact]
    public void Incremental_update_equals_one_shot()
    {
        var data = new byte[1000];
        new Random(5).NextBytes(data);
        var state = Crc32C.Update(~0u, data.AsSpan(0, 13));
        state = Crc32C.Update(state, data.AsSpan(13));
        Assert.Equal(Crc32C.Compute(data), ~state);
    }
}
