using System.Diagnostics;
using System.Text;

namespace HaMaster.Cluster.Tests.Infrastructure;

/// <summary>
/// Runs a foreign tool (Node.js for the grpc-js scripts, Debian's python3 and protoc for the Python interop test) to completion,
/// bounded in time; kills only the process it started. Missing tools fail the test with the fix.
/// </summary>
internal static class ProcessRun
{
    public const string Python = "/usr/bin/python3";
    public const string SetupHint = "run scripts/setup.sh (it installs python3-grpcio, python3-protobuf and protobuf-compiler)";

    /// <summary>Fails the test unless Debian's Python can import grpc and protobuf and protoc is on PATH.</summary>
    public static async Task RequirePythonGrpcAsync()
    {
        if (!File.Exists(Python)) Assert.Fail($"{Python} is missing: {SetupHint}.");
        var probe = await RunAsync(Python, ["-c", "import grpc, google.protobuf"], TimeSpan.FromSeconds(30));
        if (probe.ExitCode != 0) Assert.Fail($"{Python} cannot import grpc/google.protobuf ({probe.StdErr.Trim()}): {SetupHint}.");
        var protoc = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, "protoc")).FirstOrDefault(File.Exists);
        if (protoc is null) Assert.Fail($"'protoc' is not on PATH: {SetupHint}.");
    }

    public static async Task<NodeScript.Result> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryLayout.InteropDirectory,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{fileName} did not start");
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
            Assert.Fail($"{fileName} did not finish within {timeout.TotalSeconds:0} s; stderr: {await stderr}");
        }

        return new NodeScript.Result(process.ExitCode, await stdout, await stderr);
    }
}
