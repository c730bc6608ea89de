using System.Buffers;
using System.IO.Pipelines;

namespace HaMaster.Grpc.Http2;

/// <summary>
/// The response body of one stream: bytes accumulate in a pooled buffer; <see cref="FlushAsync"/>
/// hands them to the stream, which sends them as DATA frames within the flow-control windows (or,
/// for a buffered unary response, keeps them to go out with the trailers in one write).
/// Contract: one writer at a time (the handler), as for every PipeWriter.
/// </summary>
internal sealed class Http2ResponseBodyWriter : PipeWriter
{
    private const int MinimumBuffer = 4096;
    private readonly Http2Stream _stream;
    private byte[]? _buffer;
    private int _written;

    public Http2ResponseBodyWriter(Http2Stream stream) => _stream = stream;

    /// <summary>Bytes written and not yet taken by the stream.</summary>
    public ReadOnlySpan<byte> Pending => _buffer is null ? default : _buffer.AsSpan(0, _written);

    public bool IsCompleted { get; private set; }

    public override void Advance(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (_buffer is null || _written + bytes > _buffer.Length)
        {
            throw new InvalidOperationException("Advanced past the end of the buffer.");
        }

        _written += bytes;
    }

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public override void CancelPendingFlush()
    {
    }

    public override void Complete(Exception? exception = null) => IsCompleted = true;

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
        _stream.FlushResponseAsync(cancellationToken);

    /// <summary>Forgets the bytes the stream has sent.</summary>
    public void Consume(int bytes)
    {
        if (bytes == _written)
        {
            _written = 0;
            return;
        }

        _buffer.AsSpan(bytes, _written - bytes).CopyTo(_buffer);
        _written -= bytes;
    }

    /// <summary>Returns the buffer to the pool; called once the stream is done with it.</summary>
    public void Release()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            _written = 0;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Ensure(int sizeHint)
    {
        if (IsCompleted)
        {
            throw new InvalidOperationException("The response body is complete.");
        }

        var needed = _written + Math.Max(sizeHint, 1);
        if (_buffer is not null && needed <= _buffer.Length)
        {
            return;
        }

        var next = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(MinimumBuffer, (_buffer?.Length ?? 0) * 2)));
        if (_buffer is { } old)
        {
            old.AsSpan(0, _written).CopyTo(next);
            ArrayPool<byte>.Shared.Return(old);
        }

        _buffer = next;
    }
}
