using System.Diagnostics;
using System.Text.Json;
using HaMaster.Grpc.Tests.Interop;

namespace HaMaster.Grpc.Tests;

/// <summary>Wire compatibility with gRPC stacks we did not write: @grpc/grpc-js (npm) and Python grpcio (Debian).</summary>
public sealed class InteropTests : IClassFixture<ServerFixture>
{
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(90);
    private readonly ServerFixture _fixture;

    public InteropTests(ServerFixture fixture) => _fixture = fixture;

    private string Target => $"127.0.0.1:{_fixture.Host.Port}";

    [Fact]
    public async Task GrpcJs_client_calls_our_server()
    {
        InteropEnvironment.RequireNode();
        var run = await InteropEnvironment.RunAsync("node", [Path.Combine(InteropEnvironment.InteropDirectory, "client.js"), Target], ScriptTimeout);
        Assert.True(run.ExitCode == 0, $"client.js failed ({run.ExitCode}): {run.StdErr}");
        using var json = JsonDocument.Parse(run.StdOut);
        var r = json.RootElement;

        var echo = r.GetProperty("echo");
        Assert.Equal(0, echo.GetProperty("code").GetInt32());
        Assert.Equal("hi from grpc-js ✓", echo.GetProperty("reply").GetProperty("text").GetString());
        Assert.Equal("node-header", echo.GetProperty("reply").GetProperty("echoedHeader").GetString());
        Assert.Equal("yes", echo.GetProperty("headers").GetProperty("x-response-header").GetString());
        Assert.Equal("127.0.0.1:7001", echo.GetProperty("trailers").GetProperty("hamaster-leader").GetString());

        var fail = r.GetProperty("fail");
        Assert.Equal(9, fail.GetProperty("code").GetInt32());
        Assert.Equal("ünïcödé 100% → done", fail.GetProperty("details").GetString());
        Assert.Equal("127.0.0.1:7001", fail.GetProperty("trailers").GetProperty("hamaster-leader").GetString());
        Assert.Equal("requested", fail.GetProperty("trailers").GetProperty("x-fail-reason").GetString());

        Assert.Equal((int)StatusCode.Internal, r.GetProperty("crash").GetProperty("code").GetInt32());
        Assert.Equal((int)StatusCode.DeadlineExceeded, r.GetProperty("deadline").GetProperty("code").GetInt32());
        // Both sides enforce the deadline; whichever fires first, the handler's token must have fired.
        Assert.Contains(await _fixture.Service.Outcome("node-deadline").WaitAsync(ScriptTimeout), new[] { "deadline", "client-cancelled" });

        var count = r.GetProperty("count");
        Assert.Equal(0, count.GetProperty("code").GetInt32());
        Assert.Equal([1L, 2, 3, 4, 5], count.GetProperty("values").EnumerateArray().Select(v => v.GetInt64()));
        Assert.Equal("5", count.GetProperty("trailers").GetProperty("x-count").GetString());

        var countFail = r.GetProperty("countFail");
        Assert.Equal((int)StatusCode.Aborted, countFail.GetProperty("code").GetInt32());
        Assert.Equal("stopped after 2", countFail.GetProperty("details").GetString());
        Assert.Equal([1L, 2], countFail.GetProperty("values").EnumerateArray().Select(v => v.GetInt64()));
        Assert.Equal("127.0.0.1:7002", countFail.GetProperty("trailers").GetProperty("hamaster-leader").GetString());

        Assert.Equal(55, r.GetProperty("sum").GetProperty("reply").GetProperty("sum").GetInt64());
        Assert.Equal((int)StatusCode.Unimplemented, r.GetProperty("unimplemented").GetProperty("code").GetInt32());
        Assert.Equal(200, r.GetProperty("concurrentOk").GetInt32());
    }

    [Fact]
    public async Task Python_grpcio_client_calls_our_server()
    {
        await InteropEnvironment.RequirePythonGrpcAsync();
        var generated = Directory.CreateTempSubdirectory("hamaster-grpc-py-");
        try
        {
            var protoc = await InteropEnvironment.RunAsync("protoc", [$"--proto_path={InteropEnvironment.ProtoDirectory}", $"--python_out={generated.FullName}", "interop.proto"], ScriptTimeout);
            Assert.True(protoc.ExitCode == 0, $"protoc failed: {protoc.StdErr}");
            var run = await InteropEnvironment.RunAsync(
                InteropEnvironment.PythonPath,
                [Path.Combine(InteropEnvironment.InteropDirectory, "python_client.py"), Target, generated.FullName],
                ScriptTimeout);
            Assert.True(run.ExitCode == 0, $"python_client.py failed ({run.ExitCode}): {run.StdErr}");
            using var json = JsonDocument.Parse(run.StdOut);
            var r = json.RootElement;

            var echo = r.GetProperty("echo");
            Assert.Equal("hi from python ✓", echo.GetProperty("text").GetString());
            Assert.Equal("py-header", echo.GetProperty("echoed").GetString());
            Assert.Equal("yes", echo.GetProperty("headers").GetProperty("x-response-header").GetString());
            Assert.Equal("127.0.0.1:7001", echo.GetProperty("trailers").GetProperty("hamaster-leader").GetString());

            var fail = r.GetProperty("fail");
            Assert.Equal((int)StatusCode.NotFound, fail.GetProperty("code").GetInt32());
            Assert.Equal("ünïcödé 100% → missing", fail.GetProperty("details").GetString());
            Assert.Equal("127.0.0.1:7001", fail.GetProperty("trailers").GetProperty("hamaster-leader").GetString());

            Assert.Equal((int)StatusCode.DeadlineExceeded, r.GetProperty("deadline").GetProperty("code").GetInt32());
            // Both sides enforce the deadline; whichever fires first, the handler's token must have fired.
        Assert.Contains(await _fixture.Service.Outcome("py-deadline").WaitAsync(ScriptTimeout), new[] { "deadline", "client-cancelled" });

            var count = r.GetProperty("count");
            Assert.Equal(Enumerable.Range(1, 7).Select(i => (long)i), count.GetProperty("values").EnumerateArray().Select(v => v.GetInt64()));
            Assert.Equal("7", count.GetProperty("trailers").GetProperty("x-count").GetString());

            var countFail = r.GetProperty("countFail");
            Assert.Equal((int)StatusCode.Aborted, countFail.GetProperty("code").GetInt32());
            Assert.Equal([1L, 2, 3, 4], countFail.GetProperty("values").EnumerateArray().Select(v => v.GetInt64()));

            Assert.Equal(210, r.GetProperty("sum").GetProperty("sum").GetInt64());
            Assert.Equal((int)StatusCode.Unimplemented, r.GetProperty("unimplemented").GetProperty("code").GetInt32());
            Assert.Equal((int)StatusCode.Internal, r.GetProperty("crash").GetProperty("code").GetInt32());
        }
        finally
        {
            generated.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Our_client_calls_a_grpc_js_server()
    {
        InteropEnvironment.RequireNode();
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = InteropEnvironment.InteropDirectory,
        };
        info.ArgumentList.Add(Path.Combine(InteropEnvironment.InteropDirectory, "server.js"));
        using var node = Process.Start(info) ?? throw new InvalidOperationException("could not start node");
        try
        {
            var line = await node.StandardOutput.ReadLineAsync().WaitAsync(ScriptTimeout);
            Assert.False(string.IsNullOrEmpty(line), $"server.js printed no port; stderr: {(node.HasExited ? await node.StandardError.ReadToEndAsync() : "(running)")}");
            var port = JsonDocument.Parse(line!).RootElement.GetProperty("port").GetInt32();
            using var channel = new GrpcChannel(new Uri($"http://127.0.0.1:{port}"));
            const string prefix = "/hamaster.testing.v1.InteropTest/";

            var echo = await channel.UnaryAsync(prefix + "Echo", new EchoRequest { Text = "hi node ✓" }, EchoReply.Parser,
                new CallOptions { Headers = new Metadata { { "x-echo", "dotnet-header" } } });
            Assert.Equal("hi node ✓", echo.Message.Text);
            Assert.Equal("dotnet-header", echo.Message.EchoedHeader);
            Assert.Equal("from-node", echo.Headers.Get("x-response-header"));
            Assert.Equal("node:7001", echo.Trailers.Get("hamaster-leader"));

            var fail = await Assert.ThrowsAsync<GrpcException>(() => channel.UnaryAsync(
                prefix + "Fail", new FailRequest { Code = 10, Message = "ünïcödé 100% → aborted" }, EchoReply.Parser).AsTask());
            Assert.Equal(StatusCode.Aborted, fail.Status);
            Assert.Equal("ünïcödé 100% → aborted", fail.Detail);
            Assert.Equal("node:7002", fail.Trailers.Get("hamaster-leader"));

            var deadline = await Assert.ThrowsAsync<GrpcException>(() => channel.UnaryAsync(
                prefix + "Slow", new SlowRequest { DelayMs = 20_000 }, EchoReply.Parser, new CallOptions { Timeout = TimeSpan.FromMilliseconds(300) }).AsTask());
            Assert.Equal(StatusCode.DeadlineExceeded, deadline.Status);

            var values = new List<long>();
            await foreach (var n in channel.ServerStreamingAsync(prefix + "Count", new CountRequest { Count = 6 }, Number.Parser))
            {
                values.Add(n.Value);
            }

            Assert.Equal([1L, 2, 3, 4, 5, 6], values);

            var streamFail = await Assert.ThrowsAsync<GrpcException>(async () =>
            {
                await foreach (var _ in channel.ServerStreamingAsync(prefix + "Count", new CountRequest { Count = 6, FailAfter = 1 }, Number.Parser))
                {
                }
            });
            Assert.Equal(StatusCode.Aborted, streamFail.Status);

            using (var sum = channel.ClientStreaming<Number, SumReply>(prefix + "Sum", SumReply.Parser))
            {
                for (var i = 1; i <= 30; i++)
                {
                    await sum.WriteAsync(new Number { Value = i });
                }

                var reply = await sum.CompleteAsync();
                Assert.Equal(465, reply.Message.Sum);
                Assert.Equal("30", reply.Trailers.Get("x-count"));
            }

            var unimplemented = await Assert.ThrowsAsync<GrpcException>(() => channel.UnaryAsync(prefix + "Nope", new EchoRequest(), EchoReply.Parser).AsTask());
            Assert.Equal(StatusCode.Unimplemented, unimplemented.Status);

            var many = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
                channel.UnaryAsync(prefix + "Echo", new EchoRequest { Text = $"n{i}" }, EchoReply.Parser).AsTask())).WaitAsync(ScriptTimeout);
            Assert.Equal(Enumerable.Range(0, 200).Select(i => $"n{i}"), many.Select(m => m.Message.Text));
        }
        finally
        {
            if (!node.HasExited)
            {
                node.Kill(entireProcessTree: true);
            }

            await node.WaitForExitAsync().WaitAsync(ScriptTimeout);
        }
    }
}
