using System.Reflection;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using HaMaster.Server.Services;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace HaMaster.Server.Hosting;

/// <summary>
/// Binds a generated gRPC service's methods to Grpc.AspNetCore as its own binder does, with two
/// differences: a request message that is not valid protobuf ends the call with INVALID_ARGUMENT
/// "could not parse request as TYPE: reason" (grpc-dotnet's binder lets the parser's exception
/// escape, which the client sees as UNKNOWN "Exception was thrown by handler."), and a string
/// field that is not valid UTF-8 ends it with INVALID_ARGUMENT "invalid FIELD: not valid UTF-8"
/// (<see cref="StrictUtf8"/>). Registered for
/// every service of a port by <see cref="Use"/>; thread-safe (runs once per service at start-up).
/// </summary>
internal sealed class ParsingServiceMethodProvider<TService> : IServiceMethodProvider<TService>
    where TService : class
{
    /// <summary>Replaces grpc-dotnet's default binder provider with this one in <paramref name="services"/> (call after AddGrpc).</summary>
    public static void Use(IServiceCollection services)
    {
        // The default provider is internal to Grpc.AspNetCore.Server: found by name, and the
        // start-up fails loudly if a future version renames it (two providers would bind every
        // method twice).
        var removed = 0;
        for (var i = services.Count - 1; i >= 0; i--)
        {
            var d = services[i];
            if (d.ServiceType == typeof(IServiceMethodProvider<>) && d.ImplementationType?.Name == "BinderServiceMethodProvider`1")
            {
                services.RemoveAt(i);
                removed++;
            }
        }

        if (removed != 1) throw new InvalidOperationException($"expected grpc-dotnet's BinderServiceMethodProvider once in the services, found it {removed} times");
        services.AddSingleton(typeof(IServiceMethodProvider<>), typeof(ParsingServiceMethodProvider<>));
    }

    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        // Generated service bases carry [BindServiceMethod(typeof(Service), "BindService")]: a
        // static BindService(ServiceBinderBase, ServiceBase) that announces every method.
        var attribute = typeof(TService).GetCustomAttribute<BindServiceMethodAttribute>(inherit: true);
        if (attribute is null) return;
        var bind = attribute.BindType.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .FirstOrDefault(m => m.Name == attribute.BindMethodName && m.GetParameters() is { Length: 2 } p && p[0].ParameterType == typeof(ServiceBinderBase))
            ?? throw new InvalidOperationException($"{attribute.BindType}.{attribute.BindMethodName}(ServiceBinderBase, base) not found for {typeof(TService)}");
        bind.Invoke(null, [new Binder(context), null]);
    }

    private sealed class Binder(ServiceMethodProviderContext<TService> context) : ServiceBinderBase
    {
        private static readonly List<object> Metadata = [new HttpMethodMetadata(["POST"], acceptCorsPreflight: true)];

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            context.AddUnaryMethod(Parsing(method), Metadata, Invoker<UnaryServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(TRequest), typeof(ServerCallContext)));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddClientStreamingMethod(Parsing(method), Metadata, Invoker<ClientStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(IAsyncStreamReader<TRequest>), typeof(ServerCallContext)));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddServerStreamingMethod(Parsing(method), Metadata, Invoker<ServerStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(TRequest), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddDuplexStreamingMethod(Parsing(method), Metadata, Invoker<DuplexStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(IAsyncStreamReader<TRequest>), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)));

        /// <summary>The same method with a request deserializer that turns a parse failure into INVALID_ARGUMENT.</summary>
        private static Method<TRequest, TResponse> Parsing<TRequest, TResponse>(Method<TRequest, TResponse> method)
            where TRequest : class
            where TResponse : class
        {
            var deserialize = method.RequestMarshaller.ContextualDeserializer;
            var descriptor = typeof(IMessage).IsAssignableFrom(typeof(TRequest)) && Activator.CreateInstance<TRequest>() is IMessage sample
                ? sample.Descriptor
                : null;
            var typeName = descriptor?.FullName ?? typeof(TRequest).Name;
            var checkUtf8 = descriptor is not null && StrictUtf8.HasStrings(descriptor);
            var requests = Marshallers.Create(method.RequestMarshaller.ContextualSerializer, c =>
            {
                // Before parsing: a string that is not valid UTF-8 is refused naming its field
                // (the parser would refuse the whole message, or with an older version, decode it
                // to U+FFFD and serve the request under a name the caller did not send).
                if (checkUtf8 && FindInvalidUtf8(descriptor!, c.PayloadAsReadOnlySequence()) is { } field)
                {
                    throw new RpcException(new Status(StatusCode.InvalidArgument, StrictUtf8.Describe(field)));
                }

                try
                {
                    return deserialize(c);
                }
                catch (InvalidProtocolBufferException e)
                {
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"could not parse request as {typeName}: {e.Message}"));
                }
            });
            return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, requests, method.ResponseMarshaller);
        }

        private static string? FindInvalidUtf8(Google.Protobuf.Reflection.MessageDescriptor descriptor, System.Buffers.ReadOnlySequence<byte> payload) =>
            payload.IsSingleSegment
                ? StrictUtf8.FindInvalidField(descriptor, payload.FirstSpan)
                : StrictUtf8.FindInvalidField(descriptor, System.Buffers.BuffersExtensions.ToArray(payload));

        /// <summary>An open-instance delegate to the service's public method (its override of the generated virtual one).</summary>
        private static TDelegate Invoker<TDelegate>(string name, params Type[] parameters)
            where TDelegate : Delegate
        {
            var method = typeof(TService).GetMethod(name, BindingFlags.Public | BindingFlags.Instance, binder: null, parameters, modifiers: null)
                ?? throw new InvalidOperationException($"{typeof(TService)} has no method {name}({string.Join(", ", parameters.Select(p => p.Name))})");
            return (TDelegate)Delegate.CreateDelegate(typeof(TDelegate), method);
        }
    }
}
