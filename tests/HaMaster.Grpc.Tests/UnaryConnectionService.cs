using System.Globalization;
using Google.Protobuf;
using HaMaster.Grpc.Tests.Interop;

namespace HaMaster.Grpc.Tests;

/// <summary>
/// A unary method for the <see cref="GrpcUnaryConnection"/> tests: answers a payload with a
/// deterministic, position-dependent pattern (so a lost, duplicated or reordered DATA frame shows)
/// plus a response header and trailer whose values change per call (so Kestrel's HPACK encoder
/// inserts into, and evicts from, its dynamic table across the calls of one connection).
/// "Gated" does the same once the test opens its gate (one gate per instance, one use).
/// </summary>
public sealed class UnaryConnectionService
{
    public const string Service = "hamaster.testing.v1.UnaryConnection";

    /// <summary>Request: Text = decimal seed, ReplySize = reply payload bytes. Reply: Text echoed, Payload = Pattern(seed, ReplySize).</summary>
    public const string PatternPath = "/" + Service + "/Pattern";

    /// <summary>As <see cref="PatternPath"/>, but answers only after <see cref="Open"/> (ignoring its cancellation token).</summary>
    public const string GatedPath = "/" + Service + "/Gated";

    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Resolves when the "Gated" handler has started.</summary>
    public Task Started => _started.Task;

    /// <summary>Lets the "Gated" handler answer.</summary>
    public void Open() => _gate.TrySetResult();

    /// <summary>The reply payload for <paramref name="seed"/> and <paramref name="size"/>.</summary>
    public static byte[] Pattern(int seed, int size)
    {
        var bytes = new byte[size];
        for (var j = 0; j < size; j++)
        {
            // j >> 8 makes the sequence non-periodic at 256 bytes, so shifted frames do not match.
            bytes[j] = (byte)((seed * 31) + j + (j >> 8));
        }

        return bytes;
    }

    public GrpcServiceRegistry Register(GrpcServiceRegistry registry) => registry
        .AddUnary<EchoRequest, EchoReply>(Service, "Pattern", EchoRequest.Parser, (request, context) => ValueTask.FromResult(Answer(request, context)))
        .AddUnary<EchoRequest, EchoReply>(Service, "Gated", EchoRequest.Parser, async (request, context) =>
        {
            _started.TrySetResult();
            await _gate.Task;
            return Answer(request, context);
        });

    private static EchoReply Answer(EchoRequest request, ServerCallContext context)
    {
        var seed = int.Parse(request.Text, CultureInfo.InvariantCulture);
        context.ResponseHeaders.Add("x-seed-header", "header-" + request.Text + new string('h', 100));
        context.ResponseTrailers.Add("x-seed-trailer", "trailer-" + request.Text + new string('t', 100));
        return new EchoReply { Text = request.Text, Payload = ByteString.CopyFrom(Pattern(seed, request.ReplySize)) };
    }
}
