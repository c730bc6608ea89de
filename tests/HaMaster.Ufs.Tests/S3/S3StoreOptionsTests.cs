using HaMaster.Ufs.S3;

namespace HaMaster.Ufs.Tests.S3;

public sealed class S3StoreOptionsTests
{
    [Fact]
    public void DefaultsWhenOnlyCredentialsAreGiven()
    {
        var options = S3StoreOptions.Parse(new Dictionary<string, string> { ["s3.access_key"] = "A", ["s3.secret_key"] = "TOPSECRET", ["read_only"] = "true" });
        Assert.Null(options.Endpoint);
        Assert.Equal("us-east-1", options.Region);
        Assert.True(options.PathStyle);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Timeout);
        Assert.Equal(2, options.MaxRetries);
        Assert.DoesNotContain("TOPSECRET", options.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("s3.endpoint", "ftp://host", "s3.endpoint")]
    [InlineData("s3.endpoint", "not a url", "s3.endpoint")]
    [InlineData("s3.region", "US East", "s3.region")]
    [InlineData("s3.path_style", "yes", "s3.path_style")]
    [InlineData("s3.timeout_ms", "10", "s3.timeout_ms")]
    [InlineData("s3.timeout_ms", "-5", "s3.timeout_ms")]
    [InlineData("s3.max_retries", "11", "s3.max_retries")]
    [InlineData("s3.access_key", "only-the-key", "s3.secret_key")]
    [InlineData("s3.bogus", "1", "'s3.bogus'")]
    public void BadValueIsInvalidArgumentNamingTheProperty(string key, string value, string named)
    {
        var properties = new Dictionary<string, string> { [key] = value };
        if (key != "s3.access_key")
        {
            properties["s3.access_key"] = "A";
            properties["s3.secret_key"] = "S";
        }

        var error = Assert.Throws<UfsException>(() => S3StoreOptions.Parse(properties));
        Assert.Equal(UfsErrorKind.InvalidArgument, error.Kind);
        Assert.Contains(named, error.Message);
    }

    [Theory]
    [InlineData("s3://B/x")]
    [InlineData("s3://ab/x")]
    [InlineData("s3://bucket:9000/x")]
    [InlineData("s3://user@bucket/x")]
    [InlineData("s3://bucket/x?y=1")]
    [InlineData("s3://bucket/a//b")]
    public void MalformedRootIsInvalidArgument(string root)
    {
        // "s3://B" becomes "b" through Uri (lower case): too short as a bucket name.
        var error = Assert.Throws<UfsException>(() => new S3UnderFileSystemFactory().Create(new Uri(root),
            new Dictionary<string, string> { ["s3.access_key"] = "A", ["s3.secret_key"] = "S" }));
        Assert.Equal(UfsErrorKind.InvalidArgument, error.Kind);
    }

    [Fact]
    public void BucketAndPrefixComeFromTheRoot()
    {
        Assert.Equal(("my-bucket", ""), S3UnderFileSystemFactory.ParseRoot(new Uri("s3://my-bucket")));
        Assert.Equal(("my-bucket", ""), S3UnderFileSystemFactory.ParseRoot(new Uri("s3://my-bucket/")));
        Assert.Equal(("my-bucket", "a/b c"), S3UnderFileSystemFactory.ParseRoot(new Uri("s3://my-bucket/a/b%20c/")));
    }

    [Fact]
    public async Task MissingCredentialsAreInvalidArgumentUnlessTheEnvironmentHasThem()
    {
        var inEnvironment = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID"))
            && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY"));
        var factory = new S3UnderFileSystemFactory();
        if (inEnvironment)
        {
            await factory.Create(new Uri("s3://bucket"), new Dictionary<string, string>()).DisposeAsync();
            return;
        }

        var error = Assert.Throws<UfsException>(() => factory.Create(new Uri("s3://bucket"), new Dictionary<string, string>()));
        Assert.Equal(UfsErrorKind.InvalidArgument, error.Kind);
        Assert.Contains("AWS_ACCESS_KEY_ID", error.Message);
    }
}
