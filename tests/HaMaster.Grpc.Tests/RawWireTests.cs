using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using HaMaster.Grpc.Tests.Interop;

namespace HaMaster.Grpc.Tests;

/// <summary>Hand-made HTTP/2 requests: what a broken or foreign client might send.</summary>
public sealed class RawWireTests : IClassFixture<ServerFixture>, IDisposable
{
    private const string EchoPath = "/" + TestService.Service + "/Echo";
    private readonly ServerFixture _fixture;
    private readonly HttpClient _http = new(new SocketsHttpHandler()) { Timeout = TimeSpan.FromSeconds(30) };

    public RawWireTests(ServerFixture fixture) => _fixture = fixture;

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task Truncated_body_is_internal_and_server_keeps_serving()
    {
        var frame = Frame(new byte[10], declaredLength: 100);
        var (status, message, _) = await SendRawAsync(EchoPath, frame);
        Assert.Equal(StatusCode.Internal, status);
        Assert.Contains("Incomplete message", message, StringComparison.Ordinal);
        await AssertEchoWorks();
    }

    [Fact]
    public async Task Truncated_prefix_is_internal()
    {
        var (status, _, _) = await SendRawAsync(EchoPath, [0, 0, 0]);
        Assert.Equal(StatusCode.Internal, status);
        await AssertEchoWorks();
    }

    [Fact]
    public async Task Garbage_protobuf_is_invalid_argument()
    {
        var (status, message, _) = await SendRawAsync(EchoPath, Frame([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]));
        Assert.Equal(StatusCode.InvalidArgument, status);
        Assert.StartsWith("could not parse request as hamaster.testing.v1.EchoRequest", message, StringComparison.Ordinal);
        await AssertEchoWorks();
    }

    [Fact]
    public async Task Empty_unary_request_stream_is_internal()
    {
        var (status, _, _) = await SendRawAsync(EchoPath, []);
        Assert.Equal(StatusCode.Internal, status);
    }

    [Fact]
    public async Task Server_enforces_grpc_timeout_without_client_help()
    {
        var body = Frame(new SlowRequest { DelayMs = 30_000, Tag = Guid.NewGuid().ToString("N") }.ToByteArray());
        var (status, _, _) = await SendRawAsync("/" + TestService.Service + "/Slow", body, ("grpc-timeout", "200m"));
        Assert.Equal(StatusCode.DeadlineExceeded, status);
    }

    [Fact]
    public async Task Deadline_ends_the_call_even_when_the_handler_ignores_its_token()
    {
        var tag = Guid.NewGuid().ToString("N");
        var body = Frame(new SlowRequest { Tag = tag }.ToByteArray());
        try
        {
            // The handler is blocked until released: the status can only come from the deadline path.
            var (status, message, _) = await SendRawAsync("/" + TestService.Service + "/Stubborn", body, ("grpc-timeout", "200m")).WaitAsync(TimeSpan.FromSeconds(15));
            Assert.Equal(StatusCode.DeadlineExceeded, status);
            Assert.Equal("Deadline exceeded", message);
            Assert.False(_fixture.Service.Outcome(tag).IsCompleted);
        }
        finally
        {
            _fixture.Service.Release(tag);
        }

        Assert.Equal("completed", await _fixture.Service.Outcome(tag).WaitAsync(TimeSpan.FromSeconds(15)));
        await AssertEchoWorks();
    }

    [Fact]
    public async Task Gzip_compressed_request_is_decoded()
    {
        var plain = new EchoRequest { Text = "zipped" }.ToByteArray();
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(plain);
        }

        var frame = Frame(compressed.ToArray());
        frame[0] = 1;
        var (status, _, messages) = await SendRawAsync(EchoPath, frame, ("grpc-encoding", "gzip"));
        Assert.Equal(StatusCode.OK, status);
        Assert.Equal("zipped", EchoReply.Parser.ParseFrom(messages.AsSpan(5)).Text);
    }

    [Theory]
    [InlineData(null, StatusCode.Internal)]
    [InlineData("snappy", StatusCode.Unimplemented)]
    public async Task Compressed_flag_without_supported_encoding_is_rejected(string? encoding, StatusCode expected)
    {
        var frame = Frame(new EchoRequest { Text = "x" }.ToByteArray());
        frame[0] = 1;
        var headers = encoding is null ? [] : new[] { ("grpc-encoding", encoding) };
        var (status, _, _) = await SendRawAsync(EchoPath, frame, headers);
        Assert.Equal(expected, status);
    }

    [Fact]
    public async Task Non_grpc_content_type_gets_http_415()
    {
        using var request = NewRequest(EchoPath, []);
        request.Content!.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task Status_message_is_percent_encoded_on_the_wire()
    {
        var body = Frame(new FailRequest { Code = 9, Message = "50% é" }.ToByteArray());
        using var request = NewRequest("/" + TestService.Service + "/Fail", body);
        using var response = await _http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.Headers.NonValidated.TryGetValues("grpc-message", out var raw));
        Assert.Equal("50%25 %C3%A9", raw.ToString());
    }

    private async Task AssertEchoWorks()
    {
        var (status, _, messages) = await SendRawAsync(EchoPath, Frame(new EchoRequest { Text = "ok" }.ToByteArray()));
        Assert.Equal(StatusCode.OK, status);
        Assert.Equal("ok", EchoReply.Parser.ParseFrom(messages.AsSpan(5)).Text);
    }

    private HttpRequestMessage NewRequest(string path, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_fixture.Host.Address, path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        return request;
    }

    private async Task<(StatusCode Status, string Message, byte[] Body)> SendRawAsync(string path, byte[] body, params (string Name, string Value)[] headers)
    {
        using var request = NewRequest(path, body);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var source = response.TrailingHeaders.NonValidated.Contains("grpc-status") ? response.TrailingHeaders.NonValidated : response.Headers.NonValidated;
        Assert.True(source.TryGetValues("grpc-status", out var statusValues), "no grpc-status");
        var message = source.TryGetValues("grpc-message", out var messageValues) ? Protocol.GrpcMessageEncoding.Decode(messageValues.ToString()) : string.Empty;
        return ((StatusCode)int.Parse(statusValues.ToString(), System.Globalization.CultureInfo.InvariantCulture), message, bytes);
    }

    private static byte[] Frame(byte[] payload, int? declaredLength = null)
    {
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)(declaredLength ?? payload.Length));
        payload.CopyTo(frame, 5);
        return frame;
    }
}
