using System.CommandLine;
using System.Net.Security;
using HaMaster.Client;

namespace HaMaster.Cli;

/// <summary>
/// The connection flags every HaMaster command line shares (<c>hamaster</c> and the load generator
/// <c>hamaster-bench</c>): which masters, identity, deadlines, TLS and tokens, and <c>--json</c>.
/// Declared once here so both tools accept the same flags with the same defaults and environment
/// variables, and report failures the same way.
/// </summary>
public sealed class ClientFlags
{
    /// <summary>Masters used when neither --masters nor HAMASTER_MASTERS is given.</summary>
    public const string DefaultMasters = "127.0.0.1:19200,127.0.0.1:19201,127.0.0.1:19202";

    /// <summary>Environment variable naming the masters (comma-separated host:port).</summary>
    public const string MastersEnvironmentVariable = "HAMASTER_MASTERS";

    /// <summary>Environment variable holding the cluster secret (used when --cluster-secret is absent).</summary>
    public const string ClusterSecretEnvironmentVariable = "HAMASTER_CLUSTER_SECRET";

    /// <summary>Environment variable holding a bearer token (used when neither --token nor --token-file is given).</summary>
    public const string TokenEnvironmentVariable = "HAMASTER_TOKEN";

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

    public ClientFlags()
    {
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
    }

    /// <summary>Adds every flag to <paramref name="root"/> (recursive: accepted before or after a subcommand).</summary>
    public void AddTo(Command root)
    {
        ArgumentNullException.ThrowIfNull(root);
        Option[] all = [_masters, _json, _user, _groups, _timeout, _retryBudget, _clusterSecret, _tlsCa, _tlsCert, _tlsKey, _tlsCertPassword, _token, _tokenFile];
        foreach (var option in all)
        {
            root.Add(option);
        }
    }

    /// <summary>Client options from the flags; throws <see cref="ArgumentException"/> or <see cref="FormatException"/> on bad values.</summary>
    public HaMasterClientOptions ClientOptions(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new HaMasterClientOptions
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
    }

    /// <summary>Whether --json was given.</summary>
    public bool Json(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.GetValue(_json);
    }

    /// <summary>
    /// Writes a failed command's error to <paramref name="error"/> (a JSON object with --json, else a
    /// line) and returns its exit code (see <see cref="ExitCodes.For(Exception)"/>).
    /// </summary>
    public async Task<int> ReportFailureAsync(ParseResult result, Exception exception, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(error);
        var code = ExitCodes.For(exception);
        if (Json(result))
        {
            var (status, detail, master) = exception is HaMasterException hm ? (hm.Status.ToString(), hm.Detail, hm.Master) : (exception.GetType().Name, exception.Message, null);
            var json = System.Text.Json.JsonSerializer.Serialize(new JsonError(new JsonErrorBody(status, detail, master, code)), CliJsonContext.Default.JsonError);
            await error.WriteLineAsync(json).ConfigureAwait(false);
        }
        else
        {
            await error.WriteLineAsync($"error: {(exception is HaMasterException h ? h.Message : exception.Message)}").ConfigureAwait(false);
        }

        return code;
    }

    /// <summary>
    /// Wraps a command body: builds the client from the flags, runs the body and maps any failure
    /// to a message on <paramref name="error"/> and the documented exit code.
    /// </summary>
    public Func<ParseResult, CancellationToken, Task<int>> WithClient(TextWriter error, Func<ParseResult, HaMasterClient, CancellationToken, Task<int>> body) =>
        async (result, cancellationToken) =>
        {
            HaMasterClient client;
            try
            {
                client = new HaMasterClient(ClientOptions(result));
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
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
                    return await ReportFailureAsync(result, ex, error).ConfigureAwait(false);
                }
            }
        };

    /// <summary>
    /// Parses and runs <paramref name="args"/> against <paramref name="root"/>; parse errors are
    /// printed with a pointer to <c><paramref name="tool"/> --help</c> and return
    /// <see cref="ExitCodes.Usage"/> without running anything (so without contacting any master).
    /// </summary>
    public static async Task<int> InvokeAsync(RootCommand root, string tool, string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(error);
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            foreach (var parseError in result.Errors)
            {
                await error.WriteLineAsync($"error: {parseError.Message}").ConfigureAwait(false);
            }

            await error.WriteLineAsync($"Run '{tool} --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var configuration = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        return await result.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
    }

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

    internal sealed record JsonErrorBody(string Status, string Detail, string? Master, int ExitCode);

    internal sealed record JsonError(JsonErrorBody Error);
}
