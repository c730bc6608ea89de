using HaMaster.Client;
using Grpc.Core;

namespace HaMaster.Cli;

/// <summary>
/// Process exit codes scripts can rely on. Listed in <c>hamaster --help</c> and README.md; never
/// renumber them.
/// </summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Other = 1;
    public const int Usage = 2;
    public const int NotFound = 3;
    public const int AlreadyExists = 4;
    public const int Precondition = 5;
    public const int Unavailable = 6;

    /// <summary>The help text block describing the codes.</summary>
    public const string HelpText =
        "Exit codes: 0 ok, 1 other error, 2 usage error, 3 not found, 4 already exists, " +
        "5 failed precondition or invalid argument, 6 unavailable or timed out.";

    /// <summary>Maps a status code to its exit code.</summary>
    public static int For(StatusCode status) => status switch
    {
        StatusCode.OK => Ok,
        StatusCode.NotFound => NotFound,
        StatusCode.AlreadyExists => AlreadyExists,
        StatusCode.FailedPrecondition or StatusCode.InvalidArgument or StatusCode.OutOfRange => Precondition,
        StatusCode.Unavailable or StatusCode.DeadlineExceeded => Unavailable,
        _ => Other,
    };

    /// <summary>Maps a failure of a command to its exit code.</summary>
    public static int For(Exception exception) => exception switch
    {
        HaMasterException hm => For(hm.Status),
        RpcException rpc => For(rpc.StatusCode),
        ArgumentException or FormatException => Usage,
        OperationCanceledException => Unavailable,
        _ => Other,
    };
}
