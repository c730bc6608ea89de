using System.Reflection;

namespace HaMaster.Cluster.Tests.Infrastructure;

/// <summary>
/// Where the master binary, the protos and the interop scripts are. The paths are baked into
/// this assembly at build time (see the csproj) and checked here, so a missing build fails with
/// the fix instead of a confusing process error.
/// </summary>
internal static class RepositoryLayout
{
    public static string RepositoryRoot { get; } = Metadata("HaMasterRepositoryRoot");

    /// <summary>hamaster-server.dll of the same configuration as the tests (or a copy next to them).</summary>
    public static string ServerDll { get; } = FindServerDll();

    public static string ProtoRoot => Path.Combine(RepositoryRoot, "protos");

    public static string InteropDirectory => Path.Combine(RepositoryRoot, "tests", "HaMaster.Cluster.Tests", "interop");

    private static string FindServerDll()
    {
        var candidates = new[]
        {
            Metadata("HaMasterServerDll"),
            Path.Combine(AppContext.BaseDirectory, "hamaster-server.dll"),
        };
        foreach (var candidate in candidates)
        {
            if (File.Exists(candidate) && File.Exists(Path.ChangeExtension(candidate, ".runtimeconfig.json")))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException(
            $"hamaster-server.dll not found (looked at {string.Join(", ", candidates)}); build src/HaMaster.Server in the tests' configuration first (dotnet build tests/HaMaster.Cluster.Tests builds it).");
    }

    private static string Metadata(string key) =>
        typeof(RepositoryLayout).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"assembly metadata {key} is missing: the csproj sets it");
}
