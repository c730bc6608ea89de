using System.Diagnostics;
using System.Text;

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

        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
            StandardOutputEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(Path.Combine(directory, script));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("node did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"Node.js ('node') cannot be started ({e.Message}): {SetupHint}.");
            throw;
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: false);
                await process.WaitForExitAsync();
                Assert.Fail($"node {script} did not finish within {timeout.TotalSeconds:0} s; stderr: {await stderr}");
            }

            return new Result(process.ExitCode, await stdout, await stderr);
        }
    }
}
