using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using HaMaster.Grpc.Tests.Interop;

namespace HaMaster.Grpc.Tests;

public sealed class StreamingCallTests : IClassFixture<ServerFixture>
{
    private const string Prefix = "/" + TestService.Service + "/";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);
    private readonly ServerFixture _fixture;

    public StreamingCallTests(ServerFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task Server_streaming_call_exposes_headers_messages_and_trailers()
    {
        using var call = _fixture.Channel.ServerStreaming(Prefix + "Count", new CountRequest { Count = 4 }, Number.Parser);
        Assert.Throws<InvalidOperationException>(() => call.GetTrailers());
        var values = new List<long>();
        await foreach (var n in call.ResponseStream)
        {
            values.Add(n.Value);
        }

        Assert.Equal([1L, 2, 3, 4], values);
        Assert.NotNull(await call.GetResponseHeadersAsync());
        Assert.Equal("4", call.GetTrailers().Get("x-count"));
    }

    [Fact]
    public async Task Disposing_a_server_streaming_call_cancels_the_handler()
    {
        var tag = Guid.NewGuid().ToString("N");
        using (var call = _fixture.Channel.ServerStreaming(Prefix + "Count", new CountRequest { Count = 100_000, DelayMs = 5, Tag = tag }, Number.Parser))
        {
            await using var e = call.ResponseStream.GetAsyncEnumerator();
            Assert.True(await e.MoveNextAsync());
        }

        Assert.Equal("client-cancelled", await _fixture.Service.Outcome(tag).WaitAsync(Bound));
    }

    [Fact]
    public async Task Duplex_call_answers_each_request_as_it_arrives()
    {
        using var call = _fixture.Channel.DuplexStreaming<Number, Number>(Prefix + "Double", Number.Parser);
        await using var responses = call.ResponseStream.GetAsyncEnumerator();
        for (var i = 1; i <= 5; i++)
        {
            // Lock-step: the next request is sent only after the previous answer arrived.
            await call.WriteAsync(new Number { Value = i });
            Assert.True(await responses.MoveNextAsync().AsTask().WaitAsync(Bound));
            Assert.Equal(i * 2, responses.Current.Value);
        }

        call.CompleteRequests();
        Assert.False(await responses.MoveNextAsync().AsTask().WaitAsync(Bound));
        Assert.Equal("yes", call.GetTrailers().Get("x-done"));
    }

    [Fact]
    public async Task Tls_endpoint_from_a_certificate_file_serves_calls()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        var path = Path.Combine(Path.GetTempPath(), $"hamaster-grpc-{Guid.NewGuid():N}.pfx");
        await File.WriteAllBytesAsync(path, certificate.Export(X509ContentType.Pfx, "pw"));
        try
        {
            var service = new TestService();
            await using var host = await GrpcServerHost.StartAsync(service.Register(new GrpcServiceRegistry()), new GrpcServerHostOptions { CertificatePath = path, CertificatePassword = "pw" });
            Assert.Equal("https", host.Address.Scheme);

            var thumbprint = certificate.Thumbprint;
            using var channel = new GrpcChannel(new Uri($"https://127.0.0.1:{host.Port}"), new GrpcChannelOptions
            {
                Tls = new SslClientAuthenticationOptions
                {
                    RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && string.Equals(cert.GetCertHashString(), thumbprint, StringComparison.OrdinalIgnoreCase),
                },
            });
            var response = await channel.UnaryAsync(Prefix + "Echo", new EchoRequest { Text = "over tls" }, EchoReply.Parser);
            Assert.Equal("over tls", response.Message.Text);

            using var untrusting = new GrpcChannel(new Uri($"https://127.0.0.1:{host.Port}"));
            var ex = await Assert.ThrowsAsync<GrpcException>(() => untrusting.UnaryAsync(Prefix + "Echo", new EchoRequest(), EchoReply.Parser).AsTask());
            Assert.Equal(StatusCode.Unavailable, ex.Status);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
