using HaMaster.Grpc.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;

namespace HaMaster.Grpc;

internal sealed partial class GrpcServerCall
{
    /// <summary>
    /// The request delegate of every gRPC endpoint: validates the HTTP/2 request, runs the
    /// interceptors and the method, and always ends the call with a status (never throws).
    /// </summary>
    public static async Task ProcessAsync(
        HttpContext http,
        GrpcMethodDefinition method,
        GrpcServerOptions options,
        IGrpcServerInterceptor[] interceptors,
        ILogger logger)
    {
        if (!HttpProtocol.IsHttp2(http.Request.Protocol))
        {
            RejectWithHttpStatus(http, StatusCodes.Status426UpgradeRequired, $"Request protocol '{http.Request.Protocol}' is not supported: gRPC needs HTTP/2");
            return;
        }

        if (!GrpcProtocol.IsGrpcContentType(http.Request.ContentType))
        {
            RejectWithHttpStatus(http, StatusCodes.Status415UnsupportedMediaType, $"Content-Type '{http.Request.ContentType}' is not supported");
            return;
        }

        // Streams may legitimately be long and slow: Kestrel's body size and data-rate limits
        // are for HTTP uploads, our limits are per message.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = null;
        }

        if (http.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rateFeature)
        {
            rateFeature.MinDataRate = null;
        }

        TimeSpan? timeout = null;
        var timeoutText = http.Request.Headers[GrpcProtocol.TimeoutHeader].ToString();
        if (timeoutText.Length > 0)
        {
            if (GrpcTimeout.TryParse(timeoutText, out var parsed))
            {
                timeout = parsed;
            }
            else
            {
                Log.MalformedTimeout(logger, method.Path, timeoutText);
            }
        }

        using var call = new GrpcServerCall(http, method, options, timeout);
        try
        {
            call.ThrowIfDeadlineExceeded();
            if (call._deadlineCts is { } deadlineCts)
            {
                var running = RunChainAsync(call, method, interceptors).AsTask();
                if (!running.IsCompleted)
                {
                    var deadline = Task.Delay(Timeout.InfiniteTimeSpan, deadlineCts.Token);
                    if (await Task.WhenAny(running, deadline).ConfigureAwait(false) != running)
                    {
                        await call.EndAtDeadlineAsync(running, logger).ConfigureAwait(false);
                        return;
                    }
                }

                await running.ConfigureAwait(false);
            }
            else
            {
                await RunChainAsync(call, method, interceptors).ConfigureAwait(false);
            }

            await call.WriteStatusOnceAsync(GrpcStatus.Ok, null).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await call.FailAsync(ex, logger).ConfigureAwait(false);
        }
    }

    /// <summary>Answers a request no registered method matches: UNIMPLEMENTED in gRPC form, 404 otherwise.</summary>
    public static Task UnimplementedAsync(HttpContext http, ISet<string> knownServices)
    {
        if (!GrpcProtocol.IsGrpcContentType(http.Request.ContentType))
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        var service = http.Request.RouteValues["service"] as string ?? ServiceOf(http.Request.Path.Value);
        var detail = knownServices.Contains(service)
            ? $"Method is unimplemented: {http.Request.Path}"
            : $"Service is unimplemented: {service}";
        WriteTrailersOnly(http, new GrpcStatus(StatusCode.Unimplemented, detail), null, null);
        return Task.CompletedTask;
    }

    /// <summary>"a.B" of "/a.B/Method" (the native server has no route values).</summary>
    private static string ServiceOf(string? path)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '/')
        {
            return string.Empty;
        }

        var end = path.IndexOf('/', 1);
        return end < 0 ? path[1..] : path[1..end];
    }

    private async ValueTask FailAsync(Exception ex, ILogger logger)
    {
        var method = Context.Method;
        var clientCancelled = Http.RequestAborted.IsCancellationRequested;
        if (clientCancelled && !DeadlineExceeded)
        {
            // The stream is already reset: there is nobody to send a status to.
            Log.CallCancelledByClient(logger, method);
            return;
        }

        var status = GrpcStatusMapper.FromServerException(ex, DeadlineExceeded, clientCancelled, out var unexpected);
        if (unexpected)
        {
            Log.UnexpectedHandlerException(logger, method, ex);
        }
        else
        {
            Log.CallFailed(logger, method, status.Code, status.Detail);
        }

        await WriteStatusOnceAsync(status, (ex as GrpcException)?.Trailers, logger).ConfigureAwait(false);
    }

    /// <summary>
    /// The deadline passed while the handler is still running (it ignores its token, or has not
    /// noticed yet): answer DEADLINE_EXCEEDED and end the HTTP/2 stream now, then wait for the
    /// handler, because the HttpContext must outlive every use of it.
    /// </summary>
    private async ValueTask EndAtDeadlineAsync(Task handler, ILogger logger)
    {
        Log.CallFailed(logger, Context.Method, StatusCode.DeadlineExceeded, "Deadline exceeded");
        if (await WriteStatusOnceAsync(new GrpcStatus(StatusCode.DeadlineExceeded, "Deadline exceeded"), null, logger).ConfigureAwait(false))
        {
            try
            {
                await Http.Response.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or OperationCanceledException)
            {
                Log.StatusNotSent(logger, Context.Method, ex);
            }
        }

        try
        {
            await handler.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Expected: the handler noticed the deadline. Anything else is still worth a log line.
            if (ex is not OperationCanceledException and not GrpcException)
            {
                Log.UnexpectedHandlerException(logger, Context.Method, ex);
            }
        }
    }

    /// <summary>Writes the final status unless one was already written; true when this call wrote it.</summary>
    private async ValueTask<bool> WriteStatusOnceAsync(GrpcStatus status, Metadata? extraTrailers, ILogger? logger = null)
    {
        // Never wait on the call token here: the status must go out even after the deadline.
        await _writeLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_statusWritten)
            {
                return false;
            }

            _statusWritten = true;
            WriteStatus(status, extraTrailers);
            return true;
        }
        catch (Exception ex) when (logger is not null && ex is InvalidOperationException or IOException or OperationCanceledException)
        {
            Log.StatusNotSent(logger, Context.Method, ex);
            return false;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private static ValueTask RunChainAsync(GrpcServerCall call, GrpcMethodDefinition method, IGrpcServerInterceptor[] interceptors)
    {
        if (interceptors.Length == 0)
        {
            return method.Invoke(call);
        }

        GrpcCallContinuation next = _ => method.Invoke(call);
        for (var i = interceptors.Length - 1; i >= 0; i--)
        {
            var interceptor = interceptors[i];
            var inner = next;
            next = ctx => interceptor.InterceptAsync(ctx, inner);
        }

        return next(call.Context);
    }

    /// <summary>
    /// Sends the final status: in the trailers when a message was sent, otherwise as a
    /// trailers-only response (one HEADERS frame carrying status and metadata).
    /// </summary>
    private void WriteStatus(GrpcStatus status, Metadata? extraTrailers)
    {
        var response = Http.Response;
        if (!response.HasStarted)
        {
            WriteTrailersOnly(Http, status, Context.ResponseHeaders, Context.ResponseTrailers, extraTrailers);
            return;
        }

        response.AppendTrailer(GrpcProtocol.StatusHeader, ((int)status.Code).ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (status.Detail.Length > 0)
        {
            response.AppendTrailer(GrpcProtocol.MessageHeader, GrpcMessageEncoding.Encode(status.Detail));
        }

        AppendTrailers(response, Context.ResponseTrailers);
        if (extraTrailers is not null)
        {
            AppendTrailers(response, extraTrailers);
        }
    }

    private static void AppendTrailers(HttpResponse response, Metadata trailers)
    {
        foreach (var (key, value) in trailers)
        {
            response.AppendTrailer(key, value);
        }
    }

    private static void WriteTrailersOnly(HttpContext http, GrpcStatus status, params Metadata?[] metadata)
    {
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcProtocol.ContentType;
        var headers = response.Headers;
        headers[GrpcProtocol.StatusHeader] = ((int)status.Code).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (status.Detail.Length > 0)
        {
            headers[GrpcProtocol.MessageHeader] = GrpcMessageEncoding.Encode(status.Detail);
        }

        foreach (var block in metadata)
        {
            if (block is null)
            {
                continue;
            }

            foreach (var (key, value) in block)
            {
                headers.Append(key, value);
            }
        }
    }

    private static void RejectWithHttpStatus(HttpContext http, int httpStatus, string detail)
    {
        var response = http.Response;
        response.StatusCode = httpStatus;
        response.ContentType = GrpcProtocol.ContentType;
        response.Headers[GrpcProtocol.StatusHeader] = ((int)StatusCode.Internal).ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers[GrpcProtocol.MessageHeader] = GrpcMessageEncoding.Encode(detail);
    }
}
