namespace HaMaster.Cluster.Tests.Infrastructure;

/// <summary>
/// Runs a script of this project's <c>interop/</c> npm folder with Node.js. Missing tools fail
/// the test with the fix (scripts/setup.sh), never skip silently.
/// </summary>
internal static class NodeScript
{
    private const string SetupHint = "run scripts/setup.sh (it installs nodejs/npm and runs `npm ci` in tests/HaMaster.Cluster.Tests/interop)";

    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static async Task<Result> RunAsync(string script, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var directory = RepositoryLayout.InteropDirectory;
        if (!File.Exists(Path.Combine(directory, "node_modules", "@grpc", "grpc-js", "package.json"))
            || !File.Exists(Path.Combine(directory, "node_modules", "@grpc", "proto-loader", "package.json")))
        {
            Assert.Fail($"@grpc/grpc-js and @grpc/proto-loader are not installed in {directory}: {SetupHint}.");
        }

        try
        {
            return await ProcessRun.RunAsync("node", [Path.Combine(directory, script), .. arguments], timeout);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"Node.js ('node') cannot be started ({e.Message}): {SetupHint}.");
            throw;
        }
    }
}
