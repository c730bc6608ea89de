using System.Collections.Concurrent;
using Google.Protobuf;
using HaMaster.Grpc.Tests.Interop;

namespace HaMaster.Grpc.Tests;

/// <summary>
/// The test implementation of hamaster.testing.v1.InteropTest. Server-side outcomes of calls that
/// end by cancellation are published per tag, so tests can await what the handler observed.
/// </summary>
public sealed class TestService
{
    public const string Service = "hamaster.testing.v1.InteropTest";
    public const string LeaderTrailer = "hamaster-leader";

    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _outcomes = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _started = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _released = new();

    /// <summary>Lets the "Stubborn" handler of <paramref name="tag"/> return.</summary>
    public void Release(string tag) => _released.GetOrAdd(tag, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Resolves when the handler of <paramref name="tag"/> ends: "completed", "deadline" or "client-cancelled".</summary>
    public Task<string> Outcome(string tag) => _outcomes.GetOrAdd(tag, _ => NewTcs<string>()).Task;

    /// <summary>Resolves when the handler of <paramref name="tag"/> has started.</summary>
    public Task Started(string tag) => _started.GetOrAdd(tag, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public GrpcServiceRegistry Register(GrpcServiceRegistry registry) => registry
        .AddUnary<EchoRequest, EchoReply>(Service, "Echo", EchoRequest.Parser, EchoAsync)
        .AddUnary<FailRequest, EchoReply>(Service, "Fail", FailRequest.Parser, (request, context) =>
        {
            context.ResponseTrailers.Add(LeaderTrailer, "127.0.0.1:7001");
            var trailers = new Metadata { { "x-fail-reason", "requested" } };
            throw new GrpcException((StatusCode)request.Code, request.Message, trailers);
        })
        .AddUnary<SlowRequest, EchoReply>(Service, "Slow", SlowRequest.Parser, SlowAsync)
        .AddServerStreaming<CountRequest, Number>(Service, "Count", CountRequest.Parser, CountAsync)
        .AddClientStreaming<Number, SumReply>(Service, "Sum", Number.Parser, SumAsync)
        .AddUnary<SlowRequest, EchoReply>(Service, "Stubborn", SlowRequest.Parser, async (request, _) =>
        {
            // Ignores its cancellation token on purpose: waits until the test releases it.
            MarkStarted(request.Tag);
            await _released.GetOrAdd(request.Tag, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            SetOutcome(request.Tag, "completed");
            return new EchoReply { Text = "too late" };
        })
        .AddDuplexStreaming<Number, Number>(Service, "Double", Number.Parser, async (requests, responses, context) =>
        {
            // C#-only method (not in the .proto): answers each number with its double, as it arrives.
            await foreach (var n in requests)
            {
                await responses.WriteAsync(new Number { Value = n.Value * 2 });
            }

            context.ResponseTrailers.Add("x-done", "yes");
        })
        .AddUnary<EchoRequest, EchoReply>(Service, "Crash", EchoRequest.Parser, (_, _) =>
            throw new InvalidOperationException("secret internal detail"));

    private static ValueTask<EchoReply> EchoAsync(EchoRequest request, ServerCallContext context)
    {
        context.ResponseHeaders.Add("x-response-header", "yes");
        context.ResponseTrailers.Add(LeaderTrailer, "127.0.0.1:7001");
        var reply = new EchoReply { Text = request.Text, EchoedHeader = context.RequestHeaders.Get("x-echo") ?? string.Empty };
        reply.Payload = request.ReplySize > 0 ? ByteString.CopyFrom(new byte[request.ReplySize]) : request.Payload;
        return ValueTask.FromResult(reply);
    }

    private async ValueTask<EchoReply> SlowAsync(SlowRequest request, ServerCallContext context)
    {
        MarkStarted(request.Tag);
        try
        {
            await Task.Delay(request.DelayMs, context.CancellationToken);
        }
        catch (OperationCanceledException)
        {
            Record(request.Tag, context);
            throw;
        }

        SetOutcome(request.Tag, "completed");
        return new EchoReply { Text = "slow done" };
    }

    private async ValueTask CountAsync(CountRequest request, IServerStreamWriter<Number> writer, ServerCallContext context)
    {
        MarkStarted(request.Tag);
        try
        {
            for (var i = 1; i <= request.Count; i++)
            {
                if (request.FailAfter > 0 && i > request.FailAfter)
                {
                    context.ResponseTrailers.Add(LeaderTrailer, "127.0.0.1:7002");
                    throw new GrpcException(StatusCode.Aborted, $"stopped after {request.FailAfter}");
                }

                if (request.DelayMs > 0)
                {
                    await Task.Delay(request.DelayMs, context.CancellationToken);
                }

                await writer.WriteAsync(new Number { Value = i });
            }
        }
        catch (OperationCanceledException)
        {
            Record(request.Tag, context);
            throw;
        }

        context.ResponseTrailers.Add("x-count", request.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        SetOutcome(request.Tag, "completed");
    }

    private static async ValueTask<SumReply> SumAsync(IAsyncStreamReader<Number> requests, ServerCallContext context)
    {
        var reply = new SumReply();
        await foreach (var number in requests)
        {
            reply.Sum += number.Value;
            reply.Count++;
        }

        context.ResponseTrailers.Add("x-count", reply.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return reply;
    }

    private void Record(string tag, ServerCallContext context)
    {
        SetOutcome(tag, context.IsDeadlineExceeded ? "deadline" : context.IsCancelledByClient ? "client-cancelled" : "cancelled");
    }

    private void MarkStarted(string tag)
    {
        if (!string.IsNullOrEmpty(tag))
        {
            _started.GetOrAdd(tag, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    private void SetOutcome(string tag, string outcome)
    {
        if (!string.IsNullOrEmpty(tag))
        {
            _outcomes.GetOrAdd(tag, _ => NewTcs<string>()).TrySetResult(outcome);
        }
    }

    private static TaskCompletionSource<T> NewTcs<T>() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
