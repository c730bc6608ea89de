using Google.Protobuf;
using HaMaster.Grpc.Http2;
using HaMaster.Grpc.Tests.Interop;

namespace HaMaster.Grpc.Tests.Http2;

/// <summary>A client's RST_STREAM ends a handler's read of the request stream as a cancellation, not an I/O failure.</summary>
public sealed class NativeHttp2ResetTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_reset_during_a_request_stream_read_is_a_cancellation()
    {
        var reading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ended = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var registry = new GrpcServiceRegistry().AddClientStreaming<Number, SumReply>("reset.Test", "Sum", Number.Parser, async (numbers, context) =>
        {
            try
            {
                // Read without the call's token: what surfaces is what the request stream reports.
                await foreach (var _ in numbers)
                {
                    reading.TrySetResult();
                }

                ended.TrySetResult(null);
            }
            catch (Exception ex)
            {
                ended.TrySetResult(ex);
                throw;
            }

            return new SumReply();
        });
        await using var server = await GrpcServerHost.StartAsync(registry, new GrpcServerHostOptions { Http2Server = GrpcHttp2Server.Native });
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(server.Port);

        await client.WriteHeadersAsync(1, RawHttp2Client.EncodeHeaders(RawHttp2Client.GrpcRequestFields("/reset.Test/Sum")), endStream: false);
        await client.WriteDataAsync(1, RawHttp2Client.GrpcFrame(new Number { Value = 1 }.ToByteArray()), endStream: false);
        await reading.Task.WaitAsync(Bound);
        await client.WriteRstStreamAsync(1, Http2ErrorCode.Cancel);

        var failure = await ended.Task.WaitAsync(Bound);
        Assert.IsAssignableFrom<OperationCanceledException>(failure);
    }
}
