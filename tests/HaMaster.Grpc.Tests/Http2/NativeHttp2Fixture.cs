using System.Globalization;
using Google.Protobuf;
using HaMaster.Grpc.Tests.Interop;

namespace HaMaster.Grpc.Tests.Http2;

/// <summary>
/// Handlers the raw HTTP/2 tests need beyond <see cref="TestService"/>: a server-streaming method
/// sending large messages (to exhaust a small send window) and a client-streaming method that
/// consumes large messages (to make the server reopen its receive window).
/// </summary>
public static class FlowService
{
    public const string Service = "hamaster.testing.v1.Http2Flow";

    public const string BlobsPath = "/" + Service + "/Blobs";

    public const string DrainPath = "/" + Service + "/Drain";

    public const string BigHeadersPath = "/" + Service + "/BigHeaders";

    /// <summary>The deterministic content of message <paramref name="index"/> of <paramref name="size"/> bytes.</summary>
    public static byte[] Blob(int index, int size)
    {
        var bytes = new byte[size];
        for (var j = 0; j < size; j++)
        {
            bytes[j] = (byte)((index * 31) + j);
        }

        return bytes;
    }

    public static GrpcServiceRegistry Register(GrpcServiceRegistry registry) => registry
        // Request: Text = message count, ReplySize = bytes per message. Replies carry Blob(i, size).
        .AddServerStreaming<EchoRequest, EchoReply>(Service, "Blobs", EchoRequest.Parser, async (request, writer, _) =>
        {
            var count = int.Parse(request.Text, CultureInfo.InvariantCulture);
            for (var i = 0; i < count; i++)
            {
                await writer.WriteAsync(new EchoReply { Payload = ByteString.CopyFrom(Blob(i, request.ReplySize)) });
            }
        })
        // Answers the total payload bytes received, as text.
        .AddClientStreaming<EchoRequest, EchoReply>(Service, "Drain", EchoRequest.Parser, async (requests, _) =>
        {
            long total = 0;
            await foreach (var request in requests)
            {
                total += request.Payload.Length;
            }

            return new EchoReply { Text = total.ToString(CultureInfo.InvariantCulture) };
        })
        // Response header "x-big-header" and trailer "x-big-trailer" of ReplySize characters each.
        .AddUnary<EchoRequest, EchoReply>(Service, "BigHeaders", EchoRequest.Parser, (request, context) =>
        {
            context.ResponseHeaders.Add("x-big-header", new string('h', request.ReplySize));
            context.ResponseTrailers.Add("x-big-trailer", new string('t', request.ReplySize));
            return ValueTask.FromResult(new EchoReply { Text = request.Text });
        });
}

/// <summary>A native-HTTP/2 server (the default) on 127.0.0.1:0 with <see cref="TestService"/> and <see cref="FlowService"/>.</summary>
public sealed class NativeHttp2Fixture : IAsyncLifetime
{
    public TestService Service { get; } = new();

    public GrpcServerHost Host { get; private set; } = null!;

    public static ValueTask<GrpcServerHost> StartAsync(TestService service, int maxStreams = 2000) =>
        GrpcServerHost.StartAsync(
            FlowService.Register(service.Register(new GrpcServiceRegistry())),
            new GrpcServerHostOptions { Http2Server = GrpcHttp2Server.Native, MaxStreamsPerConnection = maxStreams });

    public async Task InitializeAsync() => Host = await StartAsync(Service);

    public async Task DisposeAsync() => await Host.DisposeAsync();
}
