using Google.Protobuf;

namespace HaMaster.Grpc;

/// <summary>Kind of call, as in the .proto: which side streams.</summary>
public enum GrpcMethodType
{
    Unary,
    ServerStreaming,
    ClientStreaming,
    DuplexStreaming,
}

/// <summary>One registered method: its path and how to run a call of it.</summary>
public sealed class GrpcMethodDefinition
{
    internal GrpcMethodDefinition(string service, string method, GrpcMethodType type, Func<GrpcServerCall, ValueTask> invoke)
    {
        Service = service;
        Method = method;
        Type = type;
        Invoke = invoke;
    }

    /// <summary>Fully qualified service name, e.g. "hamaster.v1.FileSystem".</summary>
    public string Service { get; }

    /// <summary>Method name, e.g. "GetStatus".</summary>
    public string Method { get; }

    public GrpcMethodType Type { get; }

    /// <summary>"/{Service}/{Method}".</summary>
    public string Path => $"/{Service}/{Method}";

    internal Func<GrpcServerCall, ValueTask> Invoke { get; }
}

/// <summary>
/// The methods and interceptors a server exposes. Filled at startup, then mapped with
/// <see cref="GrpcEndpointExtensions.MapGrpcServices"/>, which takes a snapshot: changes after
/// mapping have no effect. Not thread-safe while being filled.
/// </summary>
public sealed class GrpcServiceRegistry
{
    private readonly Dictionary<string, GrpcMethodDefinition> _methods = new(StringComparer.Ordinal);
    private readonly List<IGrpcServerInterceptor> _interceptors = [];

    public IReadOnlyCollection<GrpcMethodDefinition> Methods => _methods.Values;

    public IReadOnlyList<IGrpcServerInterceptor> Interceptors => _interceptors;

    public GrpcServiceRegistry AddUnary<TReq, TResp>(
        string service,
        string method,
        MessageParser<TReq> parser,
        Func<TReq, ServerCallContext, ValueTask<TResp>> handler)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp>
    {
        ArgumentNullException.ThrowIfNull(parser);
        ArgumentNullException.ThrowIfNull(handler);
        return Add(service, method, GrpcMethodType.Unary, async call =>
        {
            var request = await call.ReadSingleRequestAsync(parser).ConfigureAwait(false);
            var response = await handler(request, call.Context).ConfigureAwait(false);
            call.ThrowIfDeadlineExceeded();
            await call.WriteMessageAsync(response, CancellationToken.None).ConfigureAwait(false);
        });
    }

    public GrpcServiceRegistry AddServerStreaming<TReq, TResp>(
        string service,
        string method,
        MessageParser<TReq> parser,
        Func<TReq, IServerStreamWriter<TResp>, ServerCallContext, ValueTask> handler)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp>
    {
        ArgumentNullException.ThrowIfNull(parser);
        ArgumentNullException.ThrowIfNull(handler);
        return Add(service, method, GrpcMethodType.ServerStreaming, async call =>
        {
            var request = await call.ReadSingleRequestAsync(parser).ConfigureAwait(false);
            await handler(request, new ServerStreamWriter<TResp>(call), call.Context).ConfigureAwait(false);
            call.ThrowIfDeadlineExceeded();
        });
    }

    public GrpcServiceRegistry AddClientStreaming<TReq, TResp>(
        string service,
        string method,
        MessageParser<TReq> parser,
        Func<IAsyncStreamReader<TReq>, ServerCallContext, ValueTask<TResp>> handler)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp>
    {
        ArgumentNullException.ThrowIfNull(parser);
        ArgumentNullException.ThrowIfNull(handler);
        return Add(service, method, GrpcMethodType.ClientStreaming, async call =>
        {
            var response = await handler(new ServerStreamReader<TReq>(call, parser), call.Context).ConfigureAwait(false);
            call.ThrowIfDeadlineExceeded();
            await call.WriteMessageAsync(response, CancellationToken.None).ConfigureAwait(false);
        });
    }

    /// <summary>Both sides stream; the handler may read and write concurrently (one reader, one writer).</summary>
    public GrpcServiceRegistry AddDuplexStreaming<TReq, TResp>(
        string service,
        string method,
        MessageParser<TReq> parser,
        Func<IAsyncStreamReader<TReq>, IServerStreamWriter<TResp>, ServerCallContext, ValueTask> handler)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp>
    {
        ArgumentNullException.ThrowIfNull(parser);
        ArgumentNullException.ThrowIfNull(handler);
        return Add(service, method, GrpcMethodType.DuplexStreaming, async call =>
        {
            await handler(new ServerStreamReader<TReq>(call, parser), new ServerStreamWriter<TResp>(call), call.Context).ConfigureAwait(false);
            call.ThrowIfDeadlineExceeded();
        });
    }

    /// <summary>Adds an interceptor; interceptors run around every call in the order added.</summary>
    public GrpcServiceRegistry AddInterceptor(IGrpcServerInterceptor interceptor)
    {
        ArgumentNullException.ThrowIfNull(interceptor);
        _interceptors.Add(interceptor);
        return this;
    }

    private GrpcServiceRegistry Add(string service, string method, GrpcMethodType type, Func<GrpcServerCall, ValueTask> invoke)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(service);
        ArgumentException.ThrowIfNullOrWhiteSpace(method);
        if (service.Contains('/', StringComparison.Ordinal) || method.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Service and method names must not contain '/': '{service}', '{method}'.");
        }

        var definition = new GrpcMethodDefinition(service, method, type, invoke);
        if (!_methods.TryAdd(definition.Path, definition))
        {
            throw new ArgumentException($"Method {definition.Path} is already registered.");
        }

        return this;
    }
}
