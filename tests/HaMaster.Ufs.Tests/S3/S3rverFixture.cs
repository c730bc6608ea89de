using System.Reflection;
using HaMaster.Testing;

namespace HaMaster.Ufs.Tests.S3;

/// <summary>One s3rver for every S3 test class (each test uses its own bucket).</summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    private S3rverProcess? _server;

    internal S3rverProcess Server => _server ?? throw new InvalidOperationException("s3rver not started");

    public static string InteropDirectory { get; } =
        typeof(S3rverFixture).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "HaMasterUfsInterop").Value!;

    public async Task InitializeAsync() => _server = await S3rverProcess.StartAsync(InteropDirectory);

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A connector for <paramref name="root"/> on this server, with <paramref name="extra"/> properties on top.</summary>
    public IUnderFileSystem Connect(string root, IReadOnlyDictionary<string, string>? extra = null)
    {
        var properties = Server.Properties();
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            properties[key] = value;
        }

        return new HaMaster.Ufs.S3.S3UnderFileSystemFactory().Create(new Uri(root), properties);
    }
}

[CollectionDefinition(Name)]
public sealed class S3rverCollection : ICollectionFixture<S3rverFixture>
{
    public const string Name = "s3rver";
}
