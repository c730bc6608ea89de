using System.Reflection;

namespace HaMaster.Cluster.Tests.Infrastructure;

/// <summary>
/// Where the protos and the interop scripts are: the repository root is baked into this assembly
/// at build time (see the csproj). The master binary is found by <see cref="ServerBinary"/>.
/// </summary>
internal static class RepositoryLayout
{
    public static string RepositoryRoot { get; } = Metadata("HaMasterRepositoryRoot");

    public static string ProtoRoot => Path.Combine(RepositoryRoot, "protos");

    public static string InteropDirectory => Path.Combine(RepositoryRoot, "tests", "HaMaster.Cluster.Tests", "interop");

    private static string Metadata(string key) =>
        typeof(RepositoryLayout).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"assembly metadata {key} is missing: the csproj sets it");
}
