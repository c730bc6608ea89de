namespace HaMaster.Rocks;

/// <summary>The class of a RocksDB status, parsed from the prefix of its message.</summary>
public enum RocksErrorKind
{
    Unknown,
    NotFound,
    Corruption,
    NotSupported,
    InvalidArgument,
    IOError,
    Busy,
    TimedOut,
    Incomplete,
    ShutdownInProgress,
    Aborted,
    TryAgain,
}

/// <summary>
/// A failed RocksDB call: carries RocksDB's own message (e.g. "IO error: lock hold by current
/// process"), the operation that failed and the database path, so a log line alone explains it.
/// </summary>
public sealed class RocksDbException : Exception
{
    private static readonly (string Prefix, RocksErrorKind Kind)[] s_prefixes =
    [
        ("NotFound", RocksErrorKind.NotFound),
        ("Corruption", RocksErrorKind.Corruption),
        ("Not implemented", RocksErrorKind.NotSupported),
        ("Invalid argument", RocksErrorKind.InvalidArgument),
        ("IO error", RocksErrorKind.IOError),
        ("Resource busy", RocksErrorKind.Busy),
        ("Operation timed out", RocksErrorKind.TimedOut),
        ("Result incomplete", RocksErrorKind.Incomplete),
        ("Shutdown in progress", RocksErrorKind.ShutdownInProgress),
        ("Operation aborted", RocksErrorKind.Aborted),
        ("Operation failed. Try again.", RocksErrorKind.TryAgain),
    ];

    public RocksDbException(string operation, string? path, string nativeMessage)
        : this(operation, path, nativeMessage, null)
    {
    }

    public RocksDbException(string operation, string? path, string nativeMessage, string? hint)
        : this(operation, path, nativeMessage, hint, null)
    {
    }

    public RocksDbException(string operation, string? path, string nativeMessage, string? hint, Exception? innerException)
        : base(Format(operation, path, nativeMessage, hint), innerException)
    {
        Operation = operation;
        DatabasePath = path;
        NativeMessage = nativeMessage;
        Kind = Classify(nativeMessage);
    }

    public RocksDbException()
        : this("unknown", null, "unknown error")
    {
    }

    public RocksDbException(string message)
        : this("unknown", null, message)
    {
    }

    public RocksDbException(string message, Exception innerException)
        : base(message, innerException)
    {
        Operation = "unknown";
        NativeMessage = message;
    }

    /// <summary>The binding operation that failed ("open", "put", "checkpoint", ...).</summary>
    public string Operation { get; }

    /// <summary>The database (or checkpoint) path involved, when known.</summary>
    public string? DatabasePath { get; }

    /// <summary>RocksDB's message, verbatim.</summary>
    public string NativeMessage { get; }

    /// <summary>The status class, from the message prefix.</summary>
    public RocksErrorKind Kind { get; }

    /// <summary>
    /// Runs a RocksDbSharp call, turning its exception (RocksDB's status message only) into one that
    /// also names the operation and the database. The hot paths call RocksDbSharp directly inside a
    /// try/catch instead, to avoid the delegate.
    /// </summary>
    internal static T Wrap<T>(string operation, string? path, Func<T> call)
    {
        try
        {
            return call();
        }
        catch (RocksDbSharp.RocksDbSharpException e)
        {
            throw From(e, operation, path);
        }
    }

    /// <summary>Ours, from RocksDbSharp's (whose message is RocksDB's status string).</summary>
    internal static RocksDbException From(RocksDbSharp.RocksDbSharpException e, string operation, string? path, string? hint = null)
        => new(operation, path, string.IsNullOrEmpty(e.Message) ? "unknown error" : e.Message, hint, e);

    private static RocksErrorKind Classify(string message)
    {
        foreach (var (prefix, kind) in s_prefixes)
        {
            if (message.StartsWith(prefix, StringComparison.Ordinal))
            {
                return kind;
            }
        }

        return RocksErrorKind.Unknown;
    }

    private static string Format(string operation, string? path, string nativeMessage, string? hint)
    {
        var where = path is null ? string.Empty : $" ({path})";
        var tail = hint is null ? string.Empty : " " + hint;
        return $"RocksDB {operation} failed{where}: {nativeMessage}{tail}";
    }
}
