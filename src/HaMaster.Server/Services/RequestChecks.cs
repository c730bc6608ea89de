using Grpc.Core;
using HaMaster.Metadata;
using HaMaster.Protos.V1;

namespace HaMaster.Server.Services;

/// <summary>
/// Admission checks of the public requests against the documented ranges (docs/api-limits.md,
/// <see cref="InputLimits"/>): run on the leader before a write is proposed (a follower forwards
/// the request unchanged, and the leader checks it), so a refused request changes nothing. Never
/// run at apply time: the state machine keeps its own, older checks, and replays old entries as
/// they were. Each refusal is INVALID_ARGUMENT naming the field.
/// </summary>
internal static class RequestChecks
{
    public static void Check(CreateDirectoryRequest r)
    {
        JournalProposer.CheckPath(r.Path);
        Refuse(InputLimits.CheckMode(r.Mode));
        Refuse(InputLimits.CheckTtl(r.TtlMs));
        Refuse(InputLimits.CheckTtlAction(r.TtlAction));
        CheckSession(r.Session);
    }

    public static void Check(CreateFileRequest r)
    {
        JournalProposer.CheckPath(r.Path);
        Refuse(InputLimits.CheckMode(r.Mode));
        Refuse(InputLimits.CheckBlockSize(r.BlockSizeBytes));
        Refuse(InputLimits.CheckTtl(r.TtlMs));
        Refuse(InputLimits.CheckTtlAction(r.TtlAction));
        CheckSession(r.Session);
    }

    public static void Check(CreateFilesRequest r, int maxNames)
    {
        JournalProposer.CheckPath(r.Directory, "directory");
        if (r.Names.Count == 0 || r.Names.Count > maxNames) Refuse($"names: {r.Names.Count} given, 1 to {maxNames} allowed");
        var seen = new HashSet<string>(r.Names.Count, StringComparer.Ordinal);
        var prefix = r.Directory == "/" ? "/" : r.Directory + "/";
        for (var i = 0; i < r.Names.Count; i++)
        {
            var name = r.Names[i];
            if (name.Length == 0 || name.Contains('/', StringComparison.Ordinal)) Refuse($"names[{i}]: \"{name}\" is not a single path component");
            JournalProposer.CheckPath(prefix + name, $"names[{i}]");
            if (!seen.Add(name)) Refuse($"names[{i}]: \"{name}\" is given twice");
        }

        Refuse(InputLimits.CheckMode(r.Mode));
        Refuse(InputLimits.CheckBlockSize(r.BlockSizeBytes));
        CheckSession(r.Session);
    }

    public static void Check(CompleteFileRequest r)
    {
        JournalProposer.CheckPath(r.Path);
        if (r.Length > InputLimits.MaxFileLengthBytes) Refuse($"length {r.Length} exceeds the largest file length, {InputLimits.MaxFileLengthBytes} bytes");
        CheckSession(r.Session);
    }

    public static void Check(DeleteRequest r)
    {
        JournalProposer.CheckPath(r.Path);
        CheckSession(r.Session);
    }

    public static void Check(RenameRequest r)
    {
        JournalProposer.CheckPath(r.SrcPath, "src_path");
        JournalProposer.CheckPath(r.DstPath, "dst_path");
        CheckSession(r.Session);
    }

    public static void Check(SetAttributeRequest r)
    {
        JournalProposer.CheckPath(r.Path);
        if (r.HasOwner) Refuse(InputLimits.CheckPrincipalName(r.Owner, "owner"));
        if (r.HasGroup) Refuse(InputLimits.CheckPrincipalName(r.Group, "group"));
        if (r.HasMode) Refuse(InputLimits.CheckMode(r.Mode));
        if (r.HasTtlMs) Refuse(InputLimits.CheckTtl(r.TtlMs));
        if (r.HasTtlAction) Refuse(InputLimits.CheckTtlAction(r.TtlAction));
        CheckSession(r.Session);
    }

    public static void Check(GetNewBlockIdForFileRequest r)
    {
        JournalProposer.CheckPath(r.Path);
        CheckSession(r.Session);
    }

    /// <summary>A file may not grow beyond <see cref="InputLimits.MaxBlocksPerFile"/> blocks (checked against the leader's state).</summary>
    public static void CheckBlockCount(int currentBlocks, string path)
    {
        if (currentBlocks >= InputLimits.MaxBlocksPerFile) Refuse($"{path}: a file may have at most {InputLimits.MaxBlocksPerFile} blocks");
    }

    public static void Check(RegisterWorkerRequest r)
    {
        CheckAddress(r.Address, "address");
        CheckTiers(r.Tiers);
        if (r.BlockIds.Count > 0 || r.TierOfReportedBlocks.Length > 0) Refuse(InputLimits.CheckTierName(r.TierOfReportedBlocks, "tier_of_reported_blocks", optional: true));
        CheckSession(r.Session);
    }

    public static void Check(WorkerHeartbeatRequest r)
    {
        if (r.WorkerId == 0) Refuse("worker_id must be a registered worker's id (not 0)");
        CheckTiers(r.Tiers);
    }

    public static void Check(CommitBlockRequest r)
    {
        if (r.WorkerId == 0) Refuse("worker_id must be a registered worker's id (not 0)");
        if (r.BlockId == 0) Refuse("block_id must be an allocated block's id (not 0)");
        if (r.Length > InputLimits.MaxBlockSizeBytes) Refuse($"length {r.Length} exceeds the largest block size, {InputLimits.MaxBlockSizeBytes} bytes");
        Refuse(InputLimits.CheckTierName(r.Tier, "tier"));
        Refuse(InputLimits.CheckTierName(r.Medium, "medium", optional: true));
        if (r.UsedBytesOnTier > InputLimits.MaxTierBytes) Refuse($"used_bytes_on_tier {r.UsedBytesOnTier} exceeds {InputLimits.MaxTierBytes}");
        CheckSession(r.Session);
    }

    public static void Check(AddMasterRequest r)
    {
        if (r.Id == 0) Refuse("id must be a non-zero master id");
        CheckAddress(r.ClientAddress, "client_address");
        CheckAddress(r.PeerAddress, "peer_address");
        if (r.WebAddress.Length > 0) CheckAddress(r.WebAddress, "web_address");
    }

    /// <summary>
    /// A write's session: absent, or a valid client id, a sequence in 1..<see cref="InputLimits.MaxSequence"/>,
    /// and an acknowledgement below the sequence (a client cannot have received the answer it is asking for).
    /// </summary>
    public static void CheckSession(ClientSession? session)
    {
        if (session is null) return;
        Refuse(InputLimits.CheckClientId(session.ClientId));
        if (session.Sequence is 0 or > InputLimits.MaxSequence) Refuse($"session.sequence {session.Sequence} is outside 1..{InputLimits.MaxSequence}");
        if (session.AcknowledgedThrough >= session.Sequence) Refuse($"session.acknowledged_through {session.AcknowledgedThrough} must be below session.sequence {session.Sequence}");
    }

    private static void CheckTiers(Google.Protobuf.Collections.RepeatedField<TierUsage> tiers)
    {
        if (tiers.Count > InputLimits.MaxTiersPerWorker) Refuse($"tiers: {tiers.Count} tiers, at most {InputLimits.MaxTiersPerWorker}");
        foreach (var tier in tiers)
        {
            Refuse(InputLimits.CheckTierName(tier.Tier, "tiers.tier"));
            if (tier.CapacityBytes > InputLimits.MaxTierBytes) Refuse($"tiers.capacity_bytes {tier.CapacityBytes} exceeds {InputLimits.MaxTierBytes}");
            if (tier.UsedBytes > tier.CapacityBytes) Refuse($"tiers.used_bytes {tier.UsedBytes} exceeds tiers.capacity_bytes {tier.CapacityBytes} of tier {tier.Tier}");
        }
    }

    private static void CheckAddress(string address, string field)
    {
        if (address.Length > InputLimits.MaxAddressBytes) Refuse($"{field} exceeds {InputLimits.MaxAddressBytes} characters");
        foreach (var c in address)
        {
            if (c is < '!' or > '~') Refuse($"{field} must be printable ASCII host:port without spaces");
        }

        if (!Configuration.MasterEndpoint.IsHostPort(address)) Refuse($"{field} '{address}' is not host:port");
    }

    /// <summary>Refuses the request (INVALID_ARGUMENT) when <paramref name="problem"/> names one.</summary>
    public static void Refuse(string? problem)
    {
        if (problem is not null) throw ServerErrors.Status(StatusCode.InvalidArgument, problem);
    }
}
