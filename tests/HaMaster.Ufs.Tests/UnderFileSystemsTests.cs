namespace HaMaster.Ufs.Tests;

public sealed class UnderFileSystemsTests
{
    private sealed class RecordingFactory(string scheme) : IUnderFileSystemFactory
    {
        public string Scheme { get; } = scheme;
        public Uri? LastRoot { get; private set; }
        public IUnderFileSystem Create(Uri root, IReadOnlyDictionary<string, string> properties)
        {
            LastRoot = root;
            throw new UfsException(UfsErrorKind.Unavailable, "created");
        }
    }

    [Fact]
    public void UnknownSchemeIsInvalidArgumentNamingTheSupportedOnes()
    {
        var systems = new UnderFileSystems([new RecordingFactory("file"), new RecordingFactory("s3")]);
        var error = Assert.Throws<UfsException>(() => systems.Create("hdfs://nn/data", new Dictionary<string, string>()));
        Assert.Equal(UfsErrorKind.InvalidArgument, error.Kind);
        Assert.Contains("'hdfs'", error.Message);
        Assert.Contains("file, s3", error.Message);
    }

    [Fact]
    public void RelativeUriIsInvalidArgument()
    {
        var systems = new UnderFileSystems([new RecordingFactory("file")]);
        var error = Assert.Throws<UfsException>(() => systems.Create("data/dir", new Dictionary<string, string>()));
        Assert.Equal(UfsErrorKind.InvalidArgument, error.Kind);
    }

    [Fact]
    public void SchemeIsMatchedWithoutCaseAndDispatchedToItsFactory()
    {
        var s3 = new RecordingFactory("s3");
        var systems = new UnderFileSystems([new RecordingFactory("file"), s3]);
        Assert.Throws<UfsException>(() => systems.Create("S3://bucket/prefix", new Dictionary<string, string>()));
        Assert.Equal("bucket", s3.LastRoot?.Host);
    }

    [Fact]
    public void TwoFactoriesForOneSchemeAreRefused()
    {
        Assert.Throws<ArgumentException>(() => new UnderFileSystems([new RecordingFactory("file"), new RecordingFactory("FILE")]));
    }

    [Fact]
    public void FingerprintChangesWithLengthTimeAndTag()
    {
        var a = new UfsStatus("x", false, 10, 1000, "t1");
        Assert.NotEqual(a.Fingerprint, (a with { Length = 11 }).Fingerprint);
        Assert.NotEqual(a.Fingerprint, (a with { ModificationTimeMs = 1001 }).Fingerprint);
        Assert.NotEqual(a.Fingerprint, (a with { ContentTag = "t2" }).Fingerprint);
        Assert.Equal(a.Fingerprint, (a with { Name = "y" }).Fingerprint);
    }
}
