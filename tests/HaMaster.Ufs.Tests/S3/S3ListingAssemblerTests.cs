using Amazon.S3.Model;
using HaMaster.Ufs.S3;

namespace HaMaster.Ufs.Tests.S3;

/// <summary>
/// The ordering rules of S3 listings without a server: pages as real S3 returns them (key order,
/// common prefixes counted in MaxKeys), including directories that S3 puts after names they
/// precede ("a.txt" &lt; "a/").
/// </summary>
public sealed class S3ListingAssemblerTests
{
    /// <summary>
    /// A fake directory "p/" holding <paramref name="entries"/> (names; "x/" = directory), served
    /// in S3 key order in pages of <paramref name="s3PageSize"/>, listed in pages of
    /// <paramref name="pageSize"/>: what ListAsync does, minus the HTTP.
    /// </summary>
    private static List<string> ListAll(string[] entries, int s3PageSize, int pageSize)
    {
        var keys = entries.Select(e => "p/" + e).Order(StringComparer.Ordinal).ToList();
        var result = new List<string>();
        string? token = null;
        for (var call = 0; call < 1000; call++)
        {
            string? s3Token = null;
            string? after = null;
            if (token is not null)
            {
                Assert.True(S3ListingAssembler.TryDecodeToken(token, out s3Token, out after));
            }

            var assembler = new S3ListingAssembler("p/", after);
            var position = s3Token is null ? 0 : int.Parse(s3Token, System.Globalization.CultureInfo.InvariantCulture);
            bool more;
            string? next;
            while (true)
            {
                var page = keys.Skip(position).Take(s3PageSize).ToList();
                assembler.Add(position == 0 ? null : position.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    page.Where(k => !k.EndsWith('/')).Select(k => new S3Object { Key = k, Size = 1, ETag = "\"e\"" }).ToList(),
                    page.Where(k => k.EndsWith('/')).ToList());
                position += page.Count;
                more = position < keys.Count;
                next = more ? position.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
                if (!more || assembler.SafeCount(more) >= pageSize || assembler.Pages >= 100)
                {
                    break;
                }
            }

            var listing = assembler.Take(pageSize, more, next);
            Assert.True(listing.Entries.Count <= pageSize);
            result.AddRange(listing.Entries.Select(e => e.IsDirectory ? e.Name + "/" : e.Name));
            token = listing.ContinuationToken;
            if (token is null)
            {
                return result;
            }
        }

        Assert.Fail("listing did not end");
        return result;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 2)]
    [InlineData(2, 1)]
    [InlineData(2, 3)]
    [InlineData(3, 2)]
    [InlineData(1000, 1)]
    [InlineData(1000, 1000)]
    public void DirectoriesThatS3ListsLateComeInNameOrder(int s3PageSize, int pageSize)
    {
        string[] entries = ["a.txt", "a-1", "a/", "a0", "b", "c!/", "c.d/", "c/", "c0", "d.e.f", "d.e/", "d/"];
        var expected = entries.Select(e => e.TrimEnd('/')).Order(UfsNameOrder.Instance).ToList();
        var listed = ListAll(entries, s3PageSize, pageSize);
        Assert.Equal(expected, listed.Select(e => e.TrimEnd('/')));
        Assert.Contains("a/", listed);
        Assert.Contains("c.d/", listed);
    }

    [Fact]
    public void ALongRunBeforeALateDirectorySpansManyPages()
    {
        var entries = Enumerable.Range(0, 250).Select(i => $"x.{i:D3}").Append("x/").Append("y").ToArray();
        var listed = ListAll(entries, s3PageSize: 10, pageSize: 7);
        Assert.Equal("x/", listed[0]);
        Assert.Equal(entries.Select(e => e.TrimEnd('/')).Order(UfsNameOrder.Instance), listed.Select(e => e.TrimEnd('/')));
    }

    [Fact]
    public void NamesAtOrBeforeTheTokenAndRepeatedPrefixesAreDropped()
    {
        var assembler = new S3ListingAssembler("p/", "b");
        assembler.Add(null, [new S3Object { Key = "p/a" }, new S3Object { Key = "p/c" }, new S3Object { Key = "p/" }], ["p/b/", "p/d/", "p/d/"]);
        var listing = assembler.Take(10, more: false, nextS3Token: null);
        Assert.Equal(["c", "d"], listing.Entries.Select(e => e.Name));
        Assert.True(assembler.SawDirectoryItself);
        Assert.Null(listing.ContinuationToken);
    }

    [Fact]
    public void AFileAndAPrefixOfTheSameNameListAsTheFile()
    {
        var assembler = new S3ListingAssembler("", null);
        assembler.Add(null, [new S3Object { Key = "x", Size = 3 }], ["x/"]);
        var entry = Assert.Single(assembler.Take(10, more: false, nextS3Token: null).Entries);
        Assert.False(entry.IsDirectory);
        Assert.Equal(3, entry.Length);
    }

    [Fact]
    public void TokensRoundTripAndRejectForeignText()
    {
        foreach (var (s3, last) in new (string?, string?)[] { (null, null), ("abc.def/+=", "ünï.code"), (null, "n"), ("t", null) })
        {
            Assert.True(S3ListingAssembler.TryDecodeToken(S3ListingAssembler.EncodeToken(s3, last), out var s3Back, out var lastBack));
            Assert.Equal(s3, s3Back);
            Assert.Equal(last, lastBack);
        }

        Assert.False(S3ListingAssembler.TryDecodeToken("v0.x.y", out _, out _));
        Assert.False(S3ListingAssembler.TryDecodeToken("s3v1.%%%.y", out _, out _));
        Assert.False(S3ListingAssembler.TryDecodeToken("nodots", out _, out _));
    }
}
