using System.Reflection;

namespace HaMaster.Ops.Tests.Infrastructure;

/// <summary>Where the master binary and the browser script are (baked in at build time by the csproj, checked here).</summary>
internal static class OpsLayout
{
    public static string ServerDll { get; } = FindServerDll();

    public static string InteropDirectory { get; } = Metadata("HaMasterOpsInterop");

    private static string FindServerDll()
    {
        var dll = Metadata("HaMasterServerDll");
        if (File.Exists(dll) && File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")))
        {
            return dll;
        }

        throw new FileNotFoundException($"{dll} not found: build src/HaMaster.Server in the tests' configuration first (dotnet build tests/HaMaster.Ops.Tests builds it).");
    }

    private static string Metadata(string key) =>
        typeof(OpsLayout).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"assembly metadata {key} is missing: the csproj sets it");
}
