using HaMaster.Grpc.Protocol;

namespace HaMaster.Grpc;

/// <summary>Per-server gRPC limits. Immutable; validated by <see cref="Validate"/> when mapped.</summary>
public sealed record GrpcServerOptions
{
    /// <summary>Largest request message accepted, in bytes (default 4 MiB); larger ones get RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageBytes { get; init; } = GrpcProtocol.DefaultMaxMessageBytes;

    /// <summary>Largest response message sent, in bytes (default 4 MiB); larger ones end the call with RESOURCE_EXHAUSTED.</summary>
    public int MaxSendMessageBytes { get; init; } = GrpcProtocol.DefaultMaxMessageBytes;

    /// <summary>Answer unknown methods under any path "/x/y" with UNIMPLEMENTED (default true).</summary>
    public bool MapUnimplementedFallback { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when a limit is not positive.</summary>
    public GrpcServerOptions Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxReceiveMessageBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxSendMessageBytes);
        return this;
    }
}
