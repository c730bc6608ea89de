using System.Collections.Concurrent;
using System.Text.Unicode;
using Google.Protobuf.Reflection;

namespace HaMaster.Server.Services;

/// <summary>
/// Finds string fields that are not valid UTF-8 in a serialized protobuf message, by name. proto3
/// says a string field holds valid UTF-8; a lenient decoder turns each bad sequence into U+FFFD,
/// so <c>bad\xff</c>, <c>bad\xfe</c> and <c>bad\uFFFD</c> would all name the same file (the
/// master's first stack did). Google.Protobuf 3.36 refuses such a string while parsing, but only
/// says "String is invalid UTF-8" of the whole message: the server walks the wire bytes first,
/// so the refusal names the field, and the check does not depend on the parser's leniency. A
/// literal U+FFFD sent as valid UTF-8 (EF BF BD) stays accepted.
/// </summary>
/// <remarks>
/// The walk reads the wire format only as far as it needs: varint, fixed and unknown
/// length-delimited fields are skipped, string fields checked, message fields entered (up to
/// protobuf's default recursion limit of 100). Bytes it cannot read (the parser would have refused
/// them) end the walk without a finding. Thread-safe; allocates only the answer (and a cache
/// entry per message type).
/// </remarks>
internal static class StrictUtf8
{
    private const int MaxDepth = 100;
    private static readonly ConcurrentDictionary<MessageDescriptor, bool> HasStringsCache = new();

    /// <summary>The dotted name of the first string field (e.g. <c>session.client_id</c>) whose bytes are not valid UTF-8, or null.</summary>
    public static string? FindInvalidField(MessageDescriptor descriptor, ReadOnlySpan<byte> message)
    {
        if (!HasStrings(descriptor)) return null;
        return Walk(descriptor, message, 0);
    }

    /// <summary>The INVALID_ARGUMENT message for a field found by <see cref="FindInvalidField"/>.</summary>
    public static string Describe(string field) => $"invalid {field}: not valid UTF-8";

    /// <summary>Whether a message type holds a string field anywhere below it (else its walk is skipped).</summary>
    public static bool HasStrings(MessageDescriptor descriptor) =>
        HasStringsCache.GetOrAdd(descriptor, static d => Contains(d, []));

    private static bool Contains(MessageDescriptor descriptor, HashSet<MessageDescriptor> seen)
    {
        if (!seen.Add(descriptor)) return false;
        foreach (var field in descriptor.Fields.InFieldNumberOrder())
        {
            if (field.FieldType == FieldType.String) return true;
            if (field.FieldType is FieldType.Message or FieldType.Group && Contains(field.MessageType, seen)) return true;
        }

        return false;
    }

    private static string? Walk(MessageDescriptor descriptor, ReadOnlySpan<byte> data, int depth)
    {
        if (depth > MaxDepth) return null;
        var position = 0;
        while (position < data.Length)
        {
            if (!TryReadVarint(data, ref position, out var tag)) return null;
            var number = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0 or 1 or 5:
                    if (!TrySkipScalar(data, ref position, (int)(tag & 7))) return null;
                    break;
                case 2:
                    if (!TryReadVarint(data, ref position, out var length) || length > (ulong)(data.Length - position)) return null;
                    var value = data.Slice(position, (int)length);
                    position += (int)length;
                    var field = descriptor.FindFieldByNumber(number);
                    if (field is null) break;
                    if (field.FieldType == FieldType.String)
                    {
                        if (!Utf8.IsValid(value)) return field.Name;
                    }
                    else if (field.FieldType == FieldType.Message && HasStrings(field.MessageType))
                    {
                        if (Walk(field.MessageType, value, depth + 1) is { } inner) return field.Name + "." + inner;
                    }

                    break;
                case 3:
                    // A group (proto2 syntax; here only as an unknown field): skip to its end tag.
                    if (!TrySkipGroup(data, ref position, number, depth + 1)) return null;
                    break;
                default:
                    return null;
            }
        }

        return null;
    }

    /// <summary>Skips a varint (wire type 0), fixed64 (1) or fixed32 (5) value; false for a truncated varint.</summary>
    private static bool TrySkipScalar(ReadOnlySpan<byte> data, ref int position, int wireType)
    {
        switch (wireType)
        {
            case 0:
                return TryReadVarint(data, ref position, out _);
            case 1:
                position += 8;
                return true;
            default:
                position += 4;
                return true;
        }
    }

    private static bool TrySkipGroup(ReadOnlySpan<byte> data, ref int position, int number, int depth)
    {
        if (depth > MaxDepth) return false;
        while (position < data.Length)
        {
            if (!TryReadVarint(data, ref position, out var tag)) return false;
            switch ((int)(tag & 7))
            {
                case 0 or 1 or 5:
                    if (!TrySkipScalar(data, ref position, (int)(tag & 7))) return false;
                    break;
                case 2:
                    if (!TryReadVarint(data, ref position, out var length) || length > (ulong)(data.Length - position)) return false;
                    position += (int)length;
                    break;
                case 3:
                    if (!TrySkipGroup(data, ref position, (int)(tag >> 3), depth + 1)) return false;
                    break;
                case 4:
                    return (int)(tag >> 3) == number;
                default:
                    return false;
            }
        }

        return false;
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> data, ref int position, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64 && position < data.Length; shift += 7)
        {
            var b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return true;
        }

        return false;
    }
}
