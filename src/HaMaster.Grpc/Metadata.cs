using System.Collections;

namespace HaMaster.Grpc;

/// <summary>
/// gRPC metadata (request headers, response headers or trailers): an ordered multimap of
/// lower-case ASCII keys to ASCII values. Keys ending in <c>-bin</c> carry base64 text, use
/// <see cref="AddBinary"/>/<see cref="GetBinary"/> for those.
/// Not thread-safe: a call's metadata is filled by one party before it is sent.
/// </summary>
public sealed class Metadata : IEnumerable<KeyValuePair<string, string>>
{
    private readonly List<KeyValuePair<string, string>> _entries = [];

    /// <summary>Number of entries (a key added twice counts twice).</summary>
    public int Count => _entries.Count;

    /// <summary>Adds an entry; the key is normalised to lower case and validated.</summary>
    /// <exception cref="ArgumentException">The key or value is not valid gRPC ASCII metadata.</exception>
    public void Add(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var normalized = NormalizeKey(key);
        if (!normalized.EndsWith("-bin", StringComparison.Ordinal))
        {
            foreach (var c in value)
            {
                if (c < 0x20 || c > 0x7E)
                {
                    throw new ArgumentException($"Metadata value for '{normalized}' must be printable ASCII; use a '-bin' key for binary data.", nameof(value));
                }
            }
        }

        _entries.Add(new(normalized, value));
    }

    /// <summary>Adds a binary entry; the key must end in <c>-bin</c>, the value travels base64-encoded.</summary>
    public void AddBinary(string key, ReadOnlySpan<byte> value)
    {
        var normalized = NormalizeKey(key);
        if (!normalized.EndsWith("-bin", StringComparison.Ordinal))
        {
            throw new ArgumentException("Binary metadata keys must end in '-bin'.", nameof(key));
        }

        _entries.Add(new(normalized, Convert.ToBase64String(value)));
    }

    /// <summary>The last value added for <paramref name="key"/> (case-insensitive), or null.</summary>
    public string? Get(string key)
    {
        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            if (string.Equals(_entries[i].Key, key, StringComparison.OrdinalIgnoreCase))
            {
                return _entries[i].Value;
            }
        }

        return null;
    }

    /// <summary>Every value of <paramref name="key"/>, in the order added.</summary>
    public IReadOnlyList<string> GetAll(string key) =>
        _entries.Where(e => string.Equals(e.Key, key, StringComparison.OrdinalIgnoreCase)).Select(e => e.Value).ToList();

    /// <summary>Decodes the base64 value of a <c>-bin</c> key (padding optional), or null when absent.</summary>
    public byte[]? GetBinary(string key)
    {
        var text = Get(key);
        if (text is null)
        {
            return null;
        }

        var padding = (4 - (text.Length % 4)) % 4;
        return Convert.FromBase64String(padding == 0 ? text : text + new string('=', padding));
    }

    /// <summary>Removes every entry of <paramref name="key"/>; returns whether any existed.</summary>
    public bool Remove(string key) =>
        _entries.RemoveAll(e => string.Equals(e.Key, key, StringComparison.OrdinalIgnoreCase)) > 0;

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Adds without validation: used for values received from the wire.</summary>
    internal void AddUnchecked(string key, string value) => _entries.Add(new(key.ToLowerInvariant(), value));

    private static string NormalizeKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var normalized = key.ToLowerInvariant();
        foreach (var c in normalized)
        {
            var ok = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.';
            if (!ok)
            {
                throw new ArgumentException($"Invalid metadata key '{key}': only [a-z0-9-_.] are allowed.", nameof(key));
            }
        }

        if (normalized.StartsWith("grpc-", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Metadata key '{key}' is reserved: 'grpc-' keys belong to the protocol.", nameof(key));
        }

        return normalized;
    }
}
