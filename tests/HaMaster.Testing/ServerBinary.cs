using System.Reflection;

namespace HaMaster.Testing;

/// <summary>
/// Where <c>hamaster-server.dll</c> is: the path of the server built in this library's
/// configuration is baked in at build time (see the csproj); a copy next to the running
/// assembly is the fallback. Checked here, so a missing build fails with the fix instead of a
/// confusing process error.
/// </summary>
public static class ServerBinary
{
    private static readonly Lazy<string> Located = new(Locate);

    /// <summary>Full path of hamaster-server.dll; throws with the fix when it was not built.</summary>
    public static string Path => Located.Value;

    /// <summary>The baked-in path, whether or not it exists (for tools that take it as a default).</summary>
    public static string DefaultPath =>
        typeof(ServerBinary).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "HaMasterServerDll")?.Value
        ?? System.IO.Path.Combine(AppContext.BaseDirectory, "hamaster-server.dll");

    private static string Locate()
    {
        var candidates = new[] { DefaultPath, System.IO.Path.Combine(AppContext.BaseDirectory, "hamaster-server.dll") };
        foreach (var candidate in candidates)
        {
            if (File.Exists(candidate) && File.Exists(System.IO.Path.ChangeExtension(candidate, ".runtimeconfig.json")))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException(
            $"hamaster-server.dll not found (looked at {string.Join(", ", candidates)}); build src/HaMaster.Server in the tests' configuration first (building any test project that uses HaMaster.Testing builds it).");
    }
}
