using System.CommandLine;
using System.Net.Security;
using Google.Protobuf;
using HaMaster.Client;

namespace HaMaster.Cli;

/// <summary>
/// The <c>hamaster</c> command tree (System.CommandLine). Output goes to the writers given to the
/// constructor so tests can invoke the tree in-process and read what a user would see.
/// Exit codes: see <see cref="ExitCodes"/>.
/// </summary>
public sealed partial class HamasterCommandLine
{
    /// <summary>Masters used when neither --masters nor HAMASTER_MASTERS is given.</summary>
    public const string DefaultMasters = "127.0.0.1:19200,127.0.0.1:19201,127.0.0.1:19202";

    /// <summary>Environment variable naming the masters (comma-separated host:port).</summary>
    public const string MastersEnvironmentVariable = "HAMASTER_MASTERS";

    /// <summary>Environment variable holding the cluster secret (used when --cluster-secret is absent).</summary>
    public const string ClusterSecretEnvironmentVariable = "HAMASTER_CLUSTER_SECRET";

    /// <summary>Environment variable holding a bearer token (used when neither --token nor --token-file is given).</summary>
    public const string TokenEnvironmentVariable = "HAMASTER_TOKEN";

    private static readonly JsonFormatter ProtoJson = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    private readonly TextWriter _out;
    private readonly TextWriter _err;
    private readonly Option<string> _masters;
    private readonly Option<bool> _json;
    private readonly Option<string?> _user;
    private readonly Option<string?> _groups;
    private readonly Option<string> _timeout;
    private readonly Option<string> _retryBudget;
    private readonly Option<string?> _clusterSecret;
    private readonly Option<string?> _tlsCa;
    private readonly Option<string?> _tlsCert;
    private readonly Option<string?> _tlsKey;
    private readonly Option<string?> _tlsCertPassword;
    private readonly Option<string?> _token;
    private readonly Option<string?> _tokenFile;

    public HamasterCommandLine(TextWriter output, TextWriter error)
    {
        _out = output;
        _err = error;
        _masters = new Option<string>("--masters")
        {
            Description = $"Comma-separated master client addresses host:port (${MastersEnvironmentVariable} overrides the default)",
            Recursive = true,
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(MastersEnvironmentVariable) is { Length: > 0 } env ? env : DefaultMasters,
        };
        _json = new Option<bool>("--json") { Description = "Print machine-readable JSON instead of tables", Recursive = true };
        _user = new Option<string?>("--user") { Description = "Act as this user (sent as hamaster-user)", Recursive = true };
        _groups = new Option<string?>("--groups") { Description = "Comma-separated groups of the user (sent as hamaster-groups)", Recursive = true };
        _timeout = new Option<string>("--timeout")
        {
            Description = "Deadline of one attempt of a call, e.g. 500ms, 10s",
            Recursive = true,
            DefaultValueFactory = _ => "10s",
        };

        _retryBudget = new Option<string>("--retry-budget")
        {
            Description = "Total time one command may spend retrying through failovers, e.g. 30s",
            Recursive = true,
            DefaultValueFactory = _ => "30s",
        };

        _clusterSecret = new Option<string?>("--cluster-secret")
        {
            Description = $"Cluster secret for cluster add/remove/transfer-leader/snapshot (default: ${ClusterSecretEnvironmentVariable})",
            Recursive = true,
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(ClusterSecretEnvironmentVariable) is { Length: > 0 } env ? env : null,
        };

        _tlsCa = new Option<string?>("--tls-ca")
        {
            Description = "Connect with TLS (https) and trust masters whose certificate chains to this CA (PEM), as given to the masters' --tls-trusted-cert",
            Recursive = true,
        };

        _tlsCert = new Option<string?>("--tls-cert")
        {
            Description = "Client certificate for masters started with --auth tls (user = its subject CN): a PEM certificate (key in --tls-key or the same file) or a PKCS#12 file",
            Recursive = true,
        };
        _tlsKey = new Option<string?>("--tls-key") { Description = "PEM private key of --tls-cert", Recursive = true };
        _tlsCertPassword = new Option<string?>("--tls-cert-password") { Description = "Password of a PKCS#12 --tls-cert or an encrypted --tls-key", Recursive = true };
        _token = new Option<string?>("--token")
        {
            Description = $"Bearer token (JWT) for masters started with --auth jwt (default: ${TokenEnvironmentVariable})",
            Recursive = true,
        };
        _tokenFile = new Option<string?>("--token-file") { Description = "Read the bearer token from this file (surrounding whitespace ignored)", Recursive = true };

        Root = new RootCommand("hamaster: command line of the HaMaster highly available metadata master.\n" + ExitCodes.HelpText);
        Root.Add(_masters);
        Root.Add(_json);
        Root.Add(_user);
        Root.Add(_groups);
        Root.Add(_timeout);
        Root.Add(_retryBudget);
        Root.Add(_clusterSecret);
        Root.Add(_tlsCa);
        Root.Add(_tlsCert);
        Root.Add(_tlsKey);
        Root.Add(_tlsCertPassword);
        Root.Add(_token);
        Root.Add(_tokenFile);
        Root.Add(BuildFsCommand());
        Root.Add(BuildClusterCommand());
        Root.Add(BuildBenchCommand());
    }

    /// <summary>The root of the command tree.</summary>
    public RootCommand Root { get; }

    /// <summary>Parses and runs <paramref name="args"/>; returns the process exit code.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default) =>
        new HamasterCommandLine(output, error).InvokeAsync(args, cancellationToken);

    /// <summary>Parses and runs <paramref name="args"/>; usage errors return 2 without contacting any master.</summary>
    public async Task<int> InvokeAsync(string[] args, CancellationToken cancellationToken = default)
    {
        var result = Root.Parse(args);
        if (result.Errors.Count > 0)
        {
            foreach (var error in result.Errors)
            {
                await _err.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
            }

            await _err.WriteLineAsync("Run 'hamaster --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var configuration = new InvocationConfiguration { Output = _out, Error = _err, EnableDefaultExceptionHandler = false };
        return await result.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Client options from the global flags.</summary>
    internal HaMasterClientOptions ClientOptions(ParseResult result) => new HaMasterClientOptions
    {
        Seeds = MasterEndpoint.ParseList(result.GetValue(_masters) ?? DefaultMasters),
        User = result.GetValue(_user),
        Groups = (result.GetValue(_groups) ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        CallTimeout = Duration.Parse(result.GetValue(_timeout) ?? "10s"),
        ClusterSecret = result.GetValue(_clusterSecret),
        TotalRetryBudget = Duration.Parse(result.GetValue(_retryBudget) ?? "30s"),
        Tls = Tls(result),
        BearerToken = Token(result),
    }.Validate();

    private SslClientAuthenticationOptions? Tls(ParseResult result)
    {
        var tls = result.GetValue(_tlsCa) is { Length: > 0 } ca ? ClientTls.TrustingAuthority(ca) : null;
        if (result.GetValue(_tlsCert) is not { Length: > 0 } certificate)
        {
            if (result.GetValue(_tlsKey) is { Length: > 0 }) throw new ArgumentException("--tls-key needs --tls-cert");
            return tls;
        }

        return ClientTls.WithClientCertificate(tls, ClientTls.LoadClientCertificate(certificate, result.GetValue(_tlsKey) is { Length: > 0 } key ? key : null, result.GetValue(_tlsCertPassword)));
    }

    private string? Token(ParseResult result)
    {
        var token = result.GetValue(_token);
        if (result.GetValue(_tokenFile) is { Length: > 0 } file)
        {
            if (token is not null) throw new ArgumentException("give --token or --token-file, not both");
            try
            {
                token = File.ReadAllText(file).Trim();
            }
            catch (IOException e)
            {
                throw new ArgumentException($"--token-file '{file}' cannot be read: {e.Message}");
            }
        }

        token ??= Environment.GetEnvironmentVariable(TokenEnvironmentVariable) is { Length: > 0 } env ? env.Trim() : null;
        return token is { Length: > 0 } ? token : null;
    }

    private bool Json(ParseResult result) => result.GetValue(_json);

    /// <summary>
    /// Wraps a command body: builds the client from the global flags, runs the body and maps any
    /// failure to a message on stderr and the documented exit code.
    /// </summary>
    private Func<ParseResult, CancellationToken, Task<int>> WithClient(Func<ParseResult, HaMasterClient, CancellationToken, Task<int>> body) =>
        async (result, cancellationToken) =>
        {
            HaMasterClient client;
            try
            {
                client = new HaMasterClient(ClientOptions(result));
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
            {
                await _err.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            using (client)
            {
                try
                {
                    return await body(result, client, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    return await ReportFailureAsync(result, ex).ConfigureAwait(false);
                }
            }
        };

    private async Task<int> ReportFailureAsync(ParseResult result, Exception ex)
    {
        var code = ExitCodes.For(ex);
        if (Json(result))
        {
            var (status, detail, master) = ex is HaMasterException hm ? (hm.Status.ToString(), hm.Detail, hm.Master) : (ex.GetType().Name, ex.Message, null);
            var json = System.Text.Json.JsonSerializer.Serialize(new JsonError(new JsonErrorBody(status, detail, master, code)), CliJsonContext.Default.JsonError);
            await _err.WriteLineAsync(json).ConfigureAwait(false);
        }
        else
        {
            await _err.WriteLineAsync($"error: {(ex is HaMasterException h ? h.Message : ex.Message)}").ConfigureAwait(false);
        }

        return code;
    }

    internal sealed record JsonErrorBody(string Status, string Detail, string? Master, int ExitCode);

    internal sealed record JsonError(JsonErrorBody Error);
}
