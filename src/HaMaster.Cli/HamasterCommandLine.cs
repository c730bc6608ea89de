using System.CommandLine;
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
    private static readonly JsonFormatter ProtoJson = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    private readonly TextWriter _out;
    private readonly TextWriter _err;
    private readonly ClientFlags _flags = new();

    public HamasterCommandLine(TextWriter output, TextWriter error)
    {
        _out = output;
        _err = error;
        Root = new RootCommand("hamaster: command line of the HaMaster highly available metadata master.\n" + ExitCodes.HelpText);
        _flags.AddTo(Root);
        Root.Add(BuildFsCommand());
        Root.Add(BuildClusterCommand());
    }

    /// <summary>The root of the command tree.</summary>
    public RootCommand Root { get; }

    /// <summary>Parses and runs <paramref name="args"/>; returns the process exit code.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default) =>
        new HamasterCommandLine(output, error).InvokeAsync(args, cancellationToken);

    /// <summary>Parses and runs <paramref name="args"/>; usage errors return 2 without contacting any master.</summary>
    public Task<int> InvokeAsync(string[] args, CancellationToken cancellationToken = default) =>
        ClientFlags.InvokeAsync(Root, "hamaster", args, _out, _err, cancellationToken);

    /// <summary>Client options from the global flags.</summary>
    internal HaMasterClientOptions ClientOptions(ParseResult result) => _flags.ClientOptions(result);

    private bool Json(ParseResult result) => _flags.Json(result);

    /// <summary>Wraps a command body in a client built from the global flags (see <see cref="ClientFlags.WithClient"/>).</summary>
    private Func<ParseResult, CancellationToken, Task<int>> WithClient(Func<ParseResult, HaMasterClient, CancellationToken, Task<int>> body) =>
        _flags.WithClient(_err, body);

    private Task<int> ReportFailureAsync(ParseResult result, Exception ex) => _flags.ReportFailureAsync(result, ex, _err);
}
