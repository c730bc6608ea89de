namespace HaMaster.Grpc.Protocol;

/// <summary>Header names and constants of the gRPC-over-HTTP/2 wire protocol (PROTOCOL-HTTP2.md).</summary>
public static class GrpcProtocol
{
    public const string ContentType = "application/grpc";
    public const string StatusHeader = "grpc-status";
    public const string MessageHeader = "grpc-message";
    public const string TimeoutHeader = "grpc-timeout";
    public const string EncodingHeader = "grpc-encoding";
    public const string AcceptEncodingHeader = "grpc-accept-encoding";
    public const string StatusDetailsHeader = "grpc-status-details-bin";

    /// <summary>Encodings we can decode; we always send identity.</summary>
    public const string SupportedEncodings = "identity,gzip";

    /// <summary>Size of the message prefix: 1 byte compressed flag + 4 bytes big-endian length.</summary>
    public const int MessagePrefixLength = 5;

    /// <summary>Default limit for received and sent messages: 4 MiB, as in every gRPC implementation.</summary>
    public const int DefaultMaxMessageBytes = 4 << 20;

    /// <summary>True for <c>application/grpc</c>, <c>application/grpc+proto</c> and parameters after ';'.</summary>
    public static bool IsGrpcContentType(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType) || !contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (contentType.Length == ContentType.Length)
        {
            return true;
        }

        var next = contentType[ContentType.Length];
        return next is '+' or ';';
    }

    /// <summary>Headers that belong to the protocol and are not exposed as application metadata.</summary>
    internal static bool IsReservedHeader(string name) =>
        name.StartsWith(':')
        || string.Equals(name, "content-type", StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, "te", StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, "host", StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, "content-length", StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, "user-agent", StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, StatusHeader, StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, MessageHeader, StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, TimeoutHeader, StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, EncodingHeader, StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, AcceptEncodingHeader, StringComparison.OrdinalIgnoreCase);
}
