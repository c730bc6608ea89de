using System.Reflection;

namespace HaMaster.Ops.Tests.Infrastructure;

/// <summary>Where the browser script is (baked in at build time by the csproj). The master binary is found by <see cref="ServerBinary"/>.</summary>
internal static class OpsLayout
{
    public static string InteropDirectory { get; } = Metadata("HaMasterOpsInterop");

    private static string Metadata(string key) =>
        typeof(OpsLayout).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"assembly metadata {key} is missing: the csproj sets it");
}
