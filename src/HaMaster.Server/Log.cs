using Microsoft.Extensions.Logging;

namespace HaMaster.Server;

/// <summary>Source-generated log messages of the master: one line per leadership change,
/// membership change, snapshot, and error with its cause.</summary>
internal static partial class LogMessages
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "master {NodeId}: role {Role}, leader {LeaderId}, term {Term}")]
    public static partial void LeadershipChanged(ILogger logger, ulong nodeId, string role, ulong leaderId, ulong term);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "membership change {Kind} of master {Target} applied at index {Index}: {Config}")]
    public static partial void MembershipChanged(ILogger logger, string kind, ulong target, string config, ulong index);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "snapshot taken at index {Index} (term {Term}) in {ElapsedMs} ms")]
    public static partial void SnapshotTaken(ILogger logger, ulong index, ulong term, long elapsedMs);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "snapshot at index {Index} failed")]
    public static partial void SnapshotFailed(ILogger logger, ulong index, Exception error);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "installed snapshot {Index} (term {Term}) received from the leader")]
    public static partial void SnapshotInstalled(ILogger logger, ulong index, ulong term);

    [LoggerMessage(EventId = 6, Level = LogLevel.Critical, Message = "the Raft loop stopped on an unrecoverable error; this master no longer serves")]
    public static partial void RaftLoopFailed(ILogger logger, Exception error);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "dropped a Raft message for master {To} from master {From}: not addressed to this master")]
    public static partial void MisaddressedMessage(ILogger logger, ulong to, ulong from);

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "sent snapshot {Index} to master {Peer}: {Bytes} bytes in {ElapsedMs} ms")]
    public static partial void SnapshotSent(ILogger logger, ulong index, ulong peer, long bytes, long elapsedMs);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "sending snapshot {Index} to master {Peer} failed")]
    public static partial void SnapshotSendFailed(ILogger logger, ulong index, ulong peer, Exception error);

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "master {NodeId} serving: client {ClientAddress}, peer {PeerAddress}, web {WebAddress}, data {DataDirectory}")]
    public static partial void Serving(ILogger logger, ulong nodeId, string clientAddress, string peerAddress, string webAddress, string dataDirectory);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "worker {WorkerId} ({Address}) silent for {SilentMs} ms: declaring it lost")]
    public static partial void WorkerLost(ILogger logger, ulong workerId, string address, long silentMs);

    [LoggerMessage(EventId = 12, Level = LogLevel.Error, Message = "call {Method} failed with an unexpected error")]
    public static partial void CallFailed(ILogger logger, string method, Exception error);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "recovered the Raft log: {Detail}")]
    public static partial void LogRecovered(ILogger logger, string detail);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "rejected a call to {Method} from {Peer}: {Reason}")]
    public static partial void Rejected(ILogger logger, string method, string peer, string reason);

    // Debug: an unauthenticated flood must not become a flood of log lines.
    [LoggerMessage(EventId = 30, Level = LogLevel.Debug, Message = "unauthenticated call to {Method} from {Peer}: {Reason}")]
    public static partial void Unauthenticated(ILogger logger, string method, string peer, string reason);

    [LoggerMessage(EventId = 31, Level = LogLevel.Warning, Message = "client authentication is 'simple': callers' identity is taken unverified from the hamaster-user/hamaster-groups headers (development only; start with --auth tls or --auth jwt to verify it)")]
    public static partial void SimpleAuthentication(ILogger logger);

    [LoggerMessage(EventId = 32, Level = LogLevel.Warning, Message = "bearer tokens are accepted over cleartext HTTP/2: anyone on the network path can read and replay them; serve TLS (--tls-cert)")]
    public static partial void TokensOverCleartext(ILogger logger);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning, Message = "leader {Leader} (peer {Address}) of term {Term} refuses connections: forgetting it to elect a successor now")]
    public static partial void LeaderGone(ILogger logger, ulong leader, string address, ulong term);

    [LoggerMessage(EventId = 16, Level = LogLevel.Warning, Message = "Raft loop iteration took {TotalMs} ms: {Posted} posted items {PostedMs} ms, fsync of {Persisted} entries {FsyncMs} ms, apply of {Applied} entries {ApplyMs} ms, snapshot {SnapshotMs} ms, GC pauses {GcMs} ms")]
    public static partial void SlowLoopIteration(ILogger logger, long totalMs, int posted, long postedMs, int persisted, long fsyncMs, int applied, long applyMs, long snapshotMs, long gcMs);

    [LoggerMessage(EventId = 17, Level = LogLevel.Warning, Message = "refused a client call ({Reason}): {Detail}; {Suppressed} more refusals of this kind since the previous line were counted, not logged (at most one line per {WindowSeconds} s)")]
    public static partial void CallRefused(ILogger logger, string reason, string detail, long suppressed, long windowSeconds);

    [LoggerMessage(EventId = 33, Level = LogLevel.Information, Message = "cluster id: {ClusterId} ({Source})")]
    public static partial void ClusterId(ILogger logger, string clusterId, string source);

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "ttl: {Due} inodes due, {Deleted} deleted, {Freed} freed, {Skipped} skipped ({RemovedInodes} inodes removed with their subtrees)")]
    public static partial void TtlExpired(ILogger logger, int due, long deleted, long freed, long skipped, long removedInodes);

    // Debug: a round fails whenever leadership moves mid-proposal; the next round retries.
    [LoggerMessage(EventId = 41, Level = LogLevel.Debug, Message = "ttl round failed (the next round retries): {Reason}")]
    public static partial void TtlRoundFailed(ILogger logger, string reason);

    // Debug: a leader that dies or restarts breaks the stream; the calls on it fail as "outcome unknown" and clients retry.
    [LoggerMessage(EventId = 42, Level = LogLevel.Debug, Message = "the forward stream to the leader at {Address} ended")]
    public static partial void ForwardStreamFailed(ILogger logger, string address, Exception exception);
}
