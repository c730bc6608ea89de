using System.Diagnostics;
using System.Text;

namespace HaMaster.Grpc.Tests;

/// <summary>
/// Locates the foreign gRPC stacks the interop tests need and runs their scripts. Missing tools
/// fail the test with the fix (scripts/setup.sh), never skip silently.
/// </summary>
internal static class InteropEnvironment
{
    public const string PythonPath = "/usr/bin/python3";
    private const string SetupHint = "run scripts/setup.sh (it installs nodejs/npm, python3-grpcio, python3-protobuf, protobuf-compiler and runs `npm ci --prefix tests/HaMaster.Grpc.Tests/interop`)";

    /// <summary>tests/HaMaster.Grpc.Tests/interop, found by walking up from the test binaries.</summary>
    public static string InteropDirectory { get; } = FindInteropDirectory();

    public static string ProtoDirectory => Path.GetFullPath(Path.Combine(InteropDirectory, "..", "Protos"));

    public static void RequireNode()
    {
        if (FindOnPath("node") is null)
        {
            Assert.Fail($"Node.js ('node') is not on PATH: {SetupHint}.");
        }

        if (!File.Exists(Path.Combine(InteropDirectory, "node_modules", "@grpc", "grpc-js", "package.json"))
            || !File.Exists(Path.Combine(InteropDirectory, "node_modules", "@grpc", "proto-loader", "package.json")))
        {
            Assert.Fail($"npm packages @grpc/grpc-js and @grpc/proto-loader are not installed in {InteropDirectory}: {SetupHint}.");
        }
    }

    public static async Task RequirePythonGrpcAsync()
    {
        if (!File.Exists(PythonPath))
        {
            Assert.Fail($"{PythonPath} is missing: {SetupHint}.");
        }

        var probe = await RunAsync(PythonPath, ["-c", "import grpc, google.protobuf"], TimeSpan.FromSeconds(30));
        if (probe.ExitCode != 0)
        {
            Assert.Fail($"{PythonPath} cannot import grpc/google.protobuf ({probe.StdErr.Trim()}): {SetupHint}.");
        }

        if (FindOnPath("protoc") is null)
        {
            Assert.Fail($"'protoc' is not on PATH: {SetupHint}.");
        }
    }

    public sealed record ProcessResult(int ExitCode, string StdOut, string StdErr);

    /// <summary>Runs a process to completion; kills it (by PID, with its children) if it outlives <paramref name="timeout"/>.</summary>
    public static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? InteropDirectory,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"{fileName} {string.Join(' ', info.ArgumentList)} did not finish within {timeout}; stderr: {await stderr}");
        }

        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    private static string FindInteropDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "interop");
            if (File.Exists(Path.Combine(candidate, "client.js")))
            {
                return candidate;
            }

            candidate = Path.Combine(dir.FullName, "tests", "HaMaster.Grpc.Tests", "interop");
            if (File.Exists(Path.Combine(candidate, "client.js")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"tests/HaMaster.Grpc.Tests/interop not found above {AppContext.BaseDirectory}");
    }
}
