using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace HaMaster.Grpc;

/// <summary>Response stream of a server-streaming or duplex call.</summary>
internal sealed class ServerStreamWriter<T> : IServerStreamWriter<T>
    where T : IMessage<T>
{
    private readonly GrpcServerCall _call;

    public ServerStreamWriter(GrpcServerCall call) => _call = call;

    public ValueTask WriteAsync(T message, CancellationToken ct = default)
    {
        _call.ThrowIfDeadlineExceeded();
        return _call.WriteMessageAsync(message, ct);
    }
}

/// <summary>Request stream of a client-streaming or duplex call; enumerable once.</summary>
internal sealed class ServerStreamReader<T> : IAsyncStreamReader<T>
    where T : IMessage<T>
{
    private readonly GrpcServerCall _call;
    private readonly MessageParser<T> _parser;

    public ServerStreamReader(GrpcServerCall call, MessageParser<T> parser)
    {
        _call = call;
        _parser = parser;
    }

    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        ReadAllAsync(_call.CreateReader(_parser), cancellationToken).GetAsyncEnumerator(cancellationToken);

    private async IAsyncEnumerable<T> ReadAllAsync(Protocol.GrpcMessageReader<T> reader, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var linked = cancellationToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _call.Context.CancellationToken)
            : null;
        var token = linked?.Token ?? _call.Context.CancellationToken;
        while (await reader.MoveNextAsync(token).ConfigureAwait(false))
        {
            yield return reader.Current;
        }
    }
}
