using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using HaMaster.Testing;
using HaMaster.Ufs.S3;

namespace HaMaster.Ufs.Tests.S3;

/// <summary>How the s3:// connector fails: each store failure becomes one clear kind, fast.</summary>
[Collection(S3rverCollection.Name)]
public sealed class S3ErrorTests(S3rverFixture fixture)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task UnreachableEndpointIsUnavailableWithinSeconds()
    {
        // A port that was just free: nothing listens, so connections are refused at once.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        await using var ufs = Create("s3://bucket", Properties(new Uri($"http://127.0.0.1:{port}")));
        var clock = Stopwatch.StartNew();
        var error = await AssertKindAsync(UfsErrorKind.Unavailable, () => ufs.GetStatusAsync("", None).AsTask());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Contains("s3://bucket/", error.Message);
    }

    [Fact]
    public async Task EndpointThatNeverAnswersIsUnavailableAfterTheTimeout()
    {
        // Accepts connections (the kernel's backlog does) but never answers a request.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}");
        var properties = Properties(endpoint);
        properties[S3StoreOptions.TimeoutProperty] = "500";

        await using var ufs = Create("s3://bucket", properties);
        var clock = Stopwatch.StartNew();
        var error = await AssertKindAsync(UfsErrorKind.Unavailable, () => ufs.ListAsync("", null, 10, None).AsTask());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"took {clock.Elapsed}");
        Assert.Contains("500 ms", error.Message);
    }

    [Fact]
    public async Task UnknownAccessKeyIsPermissionDenied()
    {
        // s3rver checks the access key id (and not the V4 signature, so a wrong secret key is not caught there).
        var bucket = S3rverProcess.NewBucketName();
        await fixture.Server.CreateBucketAsync(bucket);
        var properties = fixture.Server.Properties();
        properties[S3StoreOptions.AccessKeyProperty] = "NOT-A-KEY";
        await using var ufs = Create($"s3://{bucket}", properties);
        var error = await AssertKindAsync(UfsErrorKind.PermissionDenied, () => ufs.ListAsync("", null, 10, None).AsTask());
        Assert.Contains("InvalidAccessKeyId", error.Message);
        Assert.Contains(bucket, error.Message);
        await AssertKindAsync(UfsErrorKind.PermissionDenied, () => ufs.MkdirsAsync("d", None).AsTask());
    }

    [Fact]
    public async Task MissingBucketIsNotFoundNamingTheBucket()
    {
        var bucket = S3rverProcess.NewBucketName("missing");
        await using var ufs = fixture.Connect($"s3://{bucket}/pre");
        foreach (var call in new Func<Task>[]
        {
            () => ufs.GetStatusAsync("", None).AsTask(),
            () => ufs.GetStatusAsync("a/b", None).AsTask(),
            () => ufs.ListAsync("", null, 10, None).AsTask(),
            () => ufs.MkdirsAsync("d", None).AsTask(),
        })
        {
            var error = await AssertKindAsync(UfsErrorKind.NotFound, call);
            Assert.Contains($"s3://{bucket}/", error.Message);
            Assert.Contains("bucket does not exist", error.Message);
        }
    }

    [Fact]
    public void UnknownPropertyIsInvalidArgumentNamingIt()
    {
        var properties = fixture.Server.Properties();
        properties["s3.endpiont"] = "http://127.0.0.1:1";
        var error = Assert.Throws<UfsException>(() => Create("s3://bucket", properties));
        Assert.Equal(UfsErrorKind.InvalidArgument, error.Kind);
        Assert.Contains("'s3.endpiont'", error.Message);
    }

    [Fact]
    public async Task RegisteredUnderItsSchemeNextToOthers()
    {
        var bucket = S3rverProcess.NewBucketName();
        await fixture.Server.CreateBucketAsync(bucket);
        var systems = new UnderFileSystems([new S3UnderFileSystemFactory()]);
        await using var ufs = systems.Create($"s3://{bucket}/x", fixture.Server.Properties());
        Assert.Equal(new Uri($"s3://{bucket}/x"), ufs.Root);
        Assert.True((await ufs.GetStatusAsync("", None))?.IsDirectory);
    }

    private static IUnderFileSystem Create(string root, IReadOnlyDictionary<string, string> properties) =>
        new S3UnderFileSystemFactory().Create(new Uri(root), properties);

    private static Dictionary<string, string> Properties(Uri endpoint) => new()
    {
        [S3StoreOptions.EndpointProperty] = endpoint.ToString(),
        [S3StoreOptions.AccessKeyProperty] = S3rverProcess.AccessKey,
        [S3StoreOptions.SecretKeyProperty] = S3rverProcess.SecretKey,
    };

    private static async Task<UfsException> AssertKindAsync(UfsErrorKind kind, Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<UfsException>(action);
        Assert.True(error.Kind == kind, $"expected {kind}, got {error.Kind}: {error.Message}");
        return error;
    }
}
