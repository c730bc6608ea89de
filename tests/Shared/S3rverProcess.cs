using System.Globalization;
using System.Net;
using HaMaster.Chaos.Core.Files;
using HaMaster.Chaos.Core.Processes;

namespace HaMaster.Testing;

/// <summary>
/// A local S3-compatible server (npm <c>s3rver</c> 3.7.1) on 127.0.0.1 for tests of the
/// <c>s3://</c> connector, started from <c>tests/HaMaster.Ufs.Tests/interop/s3rver.js</c> with a
/// fresh temporary directory. The script binds port 0 and prints the port the kernel gave it, so
/// concurrent test runs never collide; a start that fails anyway is retried a few times. Stopped
/// by killing the PID this object started. Linked as source into the projects that use it
/// (tests/Shared; they also reference HaMaster.Chaos.Core).
/// </summary>
/// <remarks>
/// s3rver knows one account, access key <see cref="AccessKey"/> / secret <see cref="SecretKey"/>.
/// It refuses an unknown access key (InvalidAccessKeyId) but does not verify V4 signatures, so a
/// wrong secret key goes unnoticed. Buckets are created with an unsigned PUT, which it accepts.
/// </remarks>
internal sealed class S3rverProcess : IAsyncDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";
    private const string ReadyPrefix = "S3RVER READY port=";
    private const int Attempts = 3;

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private readonly ManagedProcess _process;
    private readonly TempDirectory _directory;

    private S3rverProcess(ManagedProcess process, TempDirectory directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
        Endpoint = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
    }

    public int Port { get; }

    public int Pid => _process.Pid;

    /// <summary>e.g. http://127.0.0.1:40535/ (the value of the s3.endpoint property).</summary>
    public Uri Endpoint { get; }

    /// <summary>Mount properties that reach this server with its credentials.</summary>
    public Dictionary<string, string> Properties() => new()
    {
        ["s3.endpoint"] = Endpoint.ToString(),
        ["s3.access_key"] = AccessKey,
        ["s3.secret_key"] = SecretKey,
    };

    /// <summary>
    /// Starts the server from <paramref name="interopDirectory"/> (where scripts/setup.sh ran
    /// <c>npm ci</c>) and returns once it answers HTTP. Fails the test with the fix when Node.js or
    /// s3rver is missing.
    /// </summary>
    public static async Task<S3rverProcess> StartAsync(string interopDirectory, TimeSpan? readyTimeout = null)
    {
        var script = Path.Combine(interopDirectory, "s3rver.js");
        if (!File.Exists(Path.Combine(interopDirectory, "node_modules", "s3rver", "package.json")))
        {
            Assert.Fail($"s3rver is not installed in {interopDirectory}: run scripts/setup.sh (it runs `npm ci` there).");
        }

        var timeout = readyTimeout ?? TimeSpan.FromSeconds(30);
        var failures = new List<string>();
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            var directory = new TempDirectory();
            ManagedProcess process;
            try
            {
                process = ManagedProcess.Start(new ProcessSpec(
                    "node",
                    [script, directory.Sub("data"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture)],
                    // S3RVER_LOG=path keeps the server's log (with S3RVER_VERBOSE=1: one line per request) for debugging.
                    Environment.GetEnvironmentVariable("S3RVER_LOG") is { Length: > 0 } log ? log : directory.Sub("s3rver.log"),
                    WorkingDirectory: interopDirectory));
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                directory.Dispose();
                Assert.Fail($"Node.js ('node') cannot be started ({e.Message}): run scripts/setup.sh.");
                throw;
            }

            try
            {
                var line = await process.WaitForOutputLineAsync(l => l.StartsWith(ReadyPrefix, StringComparison.Ordinal), timeout);
                var port = int.Parse(line.AsSpan(ReadyPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture);
                var server = new S3rverProcess(process, directory, port);
                await Eventually.TrueAsync($"s3rver on port {port} to answer", server.AnswersAsync, timeout, () => string.Join('\n', process.RecentOutput()));
                return server;
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or FormatException)
            {
                failures.Add($"attempt {attempt}: {e.Message}; output: {string.Join(" | ", process.RecentOutput())}");
                await process.DisposeAsync();
                directory.Dispose();
            }
        }

        throw new InvalidOperationException($"s3rver did not start in {Attempts} attempts:\n{string.Join('\n', failures)}");
    }

    /// <summary>Creates a bucket (unsigned PUT); succeeds if it exists.</summary>
    public async Task CreateBucketAsync(string bucket)
    {
        using var response = await Http.PutAsync(new Uri(Endpoint, bucket), content: null);
        if (!response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.Conflict)
        {
            throw new InvalidOperationException($"s3rver refused to create bucket {bucket}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>A bucket name no other test uses.</summary>
    public static string NewBucketName(string prefix = "t") => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(63, prefix.Length + 33)];

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        _directory.Dispose();
    }

    private async Task<bool> AnswersAsync()
    {
        // Any HTTP answer will do (s3rver answers GET / with its bucket list).
        using var response = await Http.GetAsync(Endpoint);
        return response.StatusCode == HttpStatusCode.OK
            ? true
            : throw new InvalidOperationException($"GET {Endpoint} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }
}
