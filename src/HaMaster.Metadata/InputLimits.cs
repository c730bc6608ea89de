namespace HaMaster.Metadata;

/// <summary>
/// The documented ranges of the public API's names and numbers (docs/api-limits.md). The server
/// checks requests against them at admission, on the master that receives a call and on the leader
/// before it proposes; the state machine never does: entries already in a journal must replay
/// exactly as they applied when they were written, under whatever rules held then.
/// </summary>
/// <remarks>Pure and thread-safe; the checks allocate only the message of a refusal.</remarks>
public static class InputLimits
{
    /// <summary>Maximum bytes of a user or group name (the length Linux's useradd accepts).</summary>
    public const int MaxPrincipalNameBytes = 32;

    /// <summary>Maximum groups a caller may claim in one call.</summary>
    public const int MaxCallerGroups = 64;

    /// <summary>Maximum bytes of a client session id (printable ASCII).</summary>
    public const int MaxClientIdBytes = 128;

    /// <summary>Largest permission value: setuid, setgid, sticky and rwx for user, group, others (07777).</summary>
    public const uint MaxMode = 0xFFF;

    /// <summary>Smallest block size a file may ask for (1 KiB); 0 asks for the master's default.</summary>
    public const ulong MinBlockSizeBytes = 1UL << 10;

    /// <summary>Largest block size a file may ask for (1 TiB).</summary>
    public const ulong MaxBlockSizeBytes = 1UL << 40;

    /// <summary>
    /// Most blocks one file may have. With <see cref="MaxBlockSizeBytes"/> a file's block offsets
    /// stay below 2^60: no sum or product of them can overflow 64 bits.
    /// </summary>
    public const int MaxBlocksPerFile = 1 << 20;

    /// <summary>Largest file length (the capacity of the most blocks of the largest size, 2^60 bytes).</summary>
    public const ulong MaxFileLengthBytes = MaxBlockSizeBytes * MaxBlocksPerFile;

    /// <summary>Largest time to live: 100 years of 365 days, in milliseconds (creation time plus it fits in 64 bits).</summary>
    public const long MaxTtlMs = 100L * 365 * 24 * 3600 * 1000;

    /// <summary>Largest session sequence number (2^63 - 1: sequences fit a signed 64-bit integer everywhere).</summary>
    public const ulong MaxSequence = long.MaxValue;

    /// <summary>Maximum bytes of a storage tier alias or medium name.</summary>
    public const int MaxTierNameBytes = 32;

    /// <summary>Most tiers one worker may report.</summary>
    public const int MaxTiersPerWorker = 16;

    /// <summary>Largest capacity or usage of one tier (2^60 bytes, an exbibyte).</summary>
    public const ulong MaxTierBytes = 1UL << 60;

    /// <summary>Maximum bytes of a host:port address (a 253-byte DNS name, brackets of an IPv6 literal, ':' and a port).</summary>
    public const int MaxAddressBytes = 263;

    /// <summary>Maximum bytes of a mounted store's URI (issue 18).</summary>
    public const int MaxUfsUriBytes = 1024;

    /// <summary>Most connector properties one mount may have.</summary>
    public const int MaxMountProperties = 64;

    /// <summary>Maximum bytes of a mount property key.</summary>
    public const int MaxMountPropertyKeyBytes = 128;

    /// <summary>Maximum bytes of a mount property value.</summary>
    public const int MaxMountPropertyValueBytes = 4096;

    /// <summary>Most mount points in the mount table.</summary>
    public const int MaxMounts = 1024;

    /// <summary>Most store entries one LoadMetadataCommand carries (a directory loads in pages of this many, so no log entry is huge).</summary>
    /// <summary>Most names one CreateFiles may carry (a constant: it decides apply results, so replicas must agree).</summary>
    public const int MaxNamesPerCreateFiles = 1000;

    public const int MaxLoadEntriesPerCommand = 5000;

    /// <summary>
    /// Checks mount options: at most <see cref="MaxMountProperties"/> properties, keys of 1 to
    /// <see cref="MaxMountPropertyKeyBytes"/> characters from <c>[A-Za-z0-9._-]</c>, values of at most
    /// <see cref="MaxMountPropertyValueBytes"/> UTF-8 bytes without control characters. Returns null when valid.
    /// </summary>
    public static string? CheckMountProperties(IReadOnlyDictionary<string, string> properties, string field = "options.properties")
    {
        if (properties.Count > MaxMountProperties) return $"{field}: {properties.Count} properties, at most {MaxMountProperties}";
        foreach (var (key, value) in properties)
        {
            if (key.Length is 0 or > MaxMountPropertyKeyBytes) return $"{field}: a key must have 1 to {MaxMountPropertyKeyBytes} characters";
            foreach (var c in key)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')) return $"{field}: key '{(key.Length <= 40 ? key : key[..40])}' may use only A-Z a-z 0-9 . _ -";
            }

            if (System.Text.Encoding.UTF8.GetByteCount(value) > MaxMountPropertyValueBytes) return $"{field}: the value of {key} exceeds {MaxMountPropertyValueBytes} bytes";
            foreach (var c in value)
            {
                if (char.IsControl(c)) return $"{field}: the value of {key} contains a control character";
            }
        }

        return null;
    }

    /// <summary>Checks a store URI's size and characters (its meaning is the connector's to check).</summary>
    public static string? CheckUfsUri(string? uri, string field = "ufs_uri")
    {
        if (string.IsNullOrEmpty(uri)) return $"{field} must not be empty (e.g. file:///data or s3://bucket/prefix)";
        if (System.Text.Encoding.UTF8.GetByteCount(uri) > MaxUfsUriBytes) return $"{field} exceeds {MaxUfsUriBytes} bytes";
        foreach (var c in uri)
        {
            if (char.IsControl(c)) return $"{field} contains a control character";
        }

        return null;
    }

    /// <summary>
    /// Checks a user or group name against the POSIX portable user-name rules: 1 to
    /// <see cref="MaxPrincipalNameBytes"/> characters from <c>[A-Za-z0-9._-]</c>, not starting with
    /// '-', optionally ending with one '$' (Samba machine accounts). Returns null when valid,
    /// otherwise the message for the caller, naming <paramref name="field"/>. The name is echoed
    /// only when it is short and printable.
    /// </summary>
    public static string? CheckPrincipalName(string? name, string field)
    {
        if (string.IsNullOrEmpty(name)) return $"{field} must not be empty";
        if (name.Length > MaxPrincipalNameBytes) return $"{field} exceeds {MaxPrincipalNameBytes} characters";
        var end = name[^1] == '$' ? name.Length - 1 : name.Length;
        if (end == 0) return $"{field} '$' is not a name";
        if (name[0] == '-') return $"{field} '{name}' must not start with '-'";
        for (var i = 0; i < end; i++)
        {
            var c = name[i];
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return $"{field} may only contain letters, digits, '.', '_' and '-' (and end with '$'); found {Describe(c)} at position {i}";
            }
        }

        return null;
    }

    /// <summary>
    /// Checks a client session id: 1 to <see cref="MaxClientIdBytes"/> printable ASCII characters
    /// (0x21-0x7E, no space). Returns null when valid, otherwise the message.
    /// </summary>
    public static string? CheckClientId(string? clientId, string field = "session.client_id")
    {
        if (string.IsNullOrEmpty(clientId)) return $"{field} must not be empty";
        if (clientId.Length > MaxClientIdBytes) return $"{field} exceeds {MaxClientIdBytes} characters";
        for (var i = 0; i < clientId.Length; i++)
        {
            if (clientId[i] is < '!' or > '~') return $"{field} must be printable ASCII without spaces; found {Describe(clientId[i])} at position {i}";
        }

        return null;
    }

    /// <summary>
    /// Checks a storage tier alias or medium: 1 to <see cref="MaxTierNameBytes"/> characters from
    /// <c>[A-Za-z0-9._-]</c> (empty allowed when <paramref name="optional"/>).
    /// </summary>
    public static string? CheckTierName(string? name, string field, bool optional = false)
    {
        if (string.IsNullOrEmpty(name)) return optional ? null : $"{field} must not be empty";
        if (name.Length > MaxTierNameBytes) return $"{field} exceeds {MaxTierNameBytes} characters";
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return $"{field} may only contain letters, digits, '.', '_' and '-'; found {Describe(c)} at position {i}";
            }
        }

        return null;
    }

    /// <summary>Checks a requested block size: 0 (the master's default) or <see cref="MinBlockSizeBytes"/>..<see cref="MaxBlockSizeBytes"/>.</summary>
    public static string? CheckBlockSize(ulong blockSizeBytes, string field = "block_size_bytes") =>
        blockSizeBytes is 0 or (>= MinBlockSizeBytes and <= MaxBlockSizeBytes)
            ? null
            : $"{field} {blockSizeBytes} is outside 0 (default) or {MinBlockSizeBytes}..{MaxBlockSizeBytes}";

    /// <summary>Checks a permission value (at most 07777).</summary>
    public static string? CheckMode(uint mode, string field = "mode") =>
        mode <= MaxMode ? null : $"{field} {Convert.ToString(mode, 8)} is not a permission value (at most 07777)";

    /// <summary>Checks a time to live: 0..<see cref="MaxTtlMs"/>.</summary>
    public static string? CheckTtl(long ttlMs, string field = "ttl_ms") =>
        ttlMs is >= 0 and <= MaxTtlMs ? null : $"{field} {ttlMs} is outside 0..{MaxTtlMs} (100 years)";

    /// <summary>Checks a ttl action: DELETE (0) or FREE (1).</summary>
    public static string? CheckTtlAction(Protos.V1.TtlAction action, string field = "ttl_action") =>
        action is Protos.V1.TtlAction.Delete or Protos.V1.TtlAction.Free ? null : $"{field} {(int)action} is not a known action (0 delete, 1 free)";

    /// <summary>A character for a message: printable ASCII as itself, anything else as its code point.</summary>
    private static string Describe(char c) => c is >= ' ' and <= '~' ? $"'{c}'" : $"U+{(int)c:X4}";
}
