using System.Buffers;
using System.Buffers.Binary;

namespace HaMaster.Grpc.Http2;

/// <summary>Frame handling of the read loop (RFC 9113 section 6).</summary>
internal sealed partial class Http2Connection
{
    private ValueTask ProcessFrame(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        if (_headerStreamId != 0 && header.Type != Http2FrameType.Continuation)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"{header.Type} frame inside the header block of stream {_headerStreamId}");
        }

        if (!_sawSettings && header.Type != Http2FrameType.Settings)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "the client's first frame must be SETTINGS");
        }

        switch (header.Type)
        {
            case Http2FrameType.Data:
                return OnData(header, payload);
            case Http2FrameType.Headers:
                return OnHeaders(header, payload);
            case Http2FrameType.Continuation:
                return OnContinuation(header, payload);
            case Http2FrameType.Priority:
                RequireStream(header);
                if (header.Length != 5)
                {
                    return ResetStream(header.StreamId, Http2ErrorCode.FrameSizeError);
                }

                return ValueTask.CompletedTask;
            case Http2FrameType.RstStream:
                OnRstStream(header, payload);
                return ValueTask.CompletedTask;
            case Http2FrameType.Settings:
                return OnSettings(header, payload);
            case Http2FrameType.PushPromise:
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "clients must not send PUSH_PROMISE");
            case Http2FrameType.Ping:
                return OnPing(header, payload);
            case Http2FrameType.GoAway:
                OnGoAway(header);
                return ValueTask.CompletedTask;
            case Http2FrameType.WindowUpdate:
                return OnWindowUpdate(header, payload);
            default:
                // Unknown frame types are ignored (RFC 9113 4.1).
                return ValueTask.CompletedTask;
        }
    }

    private static void RequireStream(in Http2FrameHeader header)
    {
        if (header.StreamId == 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"{header.Type} frame on stream 0");
        }
    }

    private static void RequireConnection(in Http2FrameHeader header)
    {
        if (header.StreamId != 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"{header.Type} frame on stream {header.StreamId}");
        }
    }

    /// <summary>Strips padding (and priority fields); the fragment that remains, and the padding bytes.</summary>
    private static ReadOnlySequence<byte> Unpad(in Http2FrameHeader header, ReadOnlySequence<byte> payload, int priorityBytes, out int padding)
    {
        padding = 0;
        var skip = 0;
        if (header.HasFlag(Http2Flags.Padded))
        {
            if (payload.Length < 1)
            {
                throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"padded {header.Type} frame without a pad length");
            }

            padding = payload.FirstSpan[0];
            skip = 1;
        }

        skip += priorityBytes;
        if (skip + padding > payload.Length)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"{header.Type} frame padding exceeds its payload");
        }

        // The pad-length byte counts as padding for flow control.
        var data = payload.Slice(skip, payload.Length - skip - padding);
        padding += skip - priorityBytes;
        return data;
    }

    private ValueTask OnData(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        RequireStream(header);
        var data = Unpad(header, payload, 0, out var padding);
        lock (_receiveLock)
        {
            _receiveWindow -= header.Length;
            if (_receiveWindow < 0)
            {
                throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "DATA beyond the connection's receive window");
            }
        }

        var stream = FindStream(header.StreamId);

        if (stream is null)
        {
            if (header.StreamId > _lastStreamId)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"DATA on idle stream {header.StreamId}");
            }

            // A stream we already answered or reset: drop the bytes, keep the window open.
            CreditReceive(null, header.Length, 0);
            return ValueTask.CompletedTask;
        }

        if (stream.RequestEnded)
        {
            CreditReceive(null, header.Length, 0);
            return stream.IsReset ? ValueTask.CompletedTask : ResetStream(stream, Http2ErrorCode.StreamClosed);
        }

        bool overrun;
        lock (_receiveLock)
        {
            stream.ReceiveWindow -= header.Length;
            overrun = stream.ReceiveWindow < 0;
        }

        if (overrun)
        {
            CreditReceive(null, header.Length, 0);
            return ResetStream(stream, Http2ErrorCode.FlowControlError);
        }

        if (padding > 0)
        {
            stream.OnPaddingReceived(padding);
        }

        stream.OnRequestData(data, header.HasFlag(Http2Flags.EndStream));
        return ValueTask.CompletedTask;
    }

    private ValueTask OnHeaders(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        RequireStream(header);
        var fragment = Unpad(header, payload, header.HasFlag(Http2Flags.Priority) ? 5 : 0, out _);
        _headerStreamId = header.StreamId;
        _headerEndStream = header.HasFlag(Http2Flags.EndStream);
        _headerBlockLength = 0;
        AppendHeaderFragment(fragment);
        return header.HasFlag(Http2Flags.EndHeaders) ? OnHeaderBlock() : ValueTask.CompletedTask;
    }

    private ValueTask OnContinuation(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        if (_headerStreamId == 0 || header.StreamId != _headerStreamId)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"CONTINUATION on stream {header.StreamId} without a header block in progress");
        }

        AppendHeaderFragment(payload);
        return header.HasFlag(Http2Flags.EndHeaders) ? OnHeaderBlock() : ValueTask.CompletedTask;
    }

    private void AppendHeaderFragment(in ReadOnlySequence<byte> fragment)
    {
        var needed = _headerBlockLength + (int)fragment.Length;
        if (needed > Limits.MaxHeaderListBytes * 2)
        {
            // Compressed blocks larger than twice the list limit can only be abuse (CONTINUATION floods).
            throw new Http2ConnectionException(Http2ErrorCode.EnhanceYourCalm, $"header block over {Limits.MaxHeaderListBytes * 2} bytes");
        }

        if (_headerBlock is null || _headerBlock.Length < needed)
        {
            var next = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 1024));
            if (_headerBlock is { } old)
            {
                old.AsSpan(0, _headerBlockLength).CopyTo(next);
                ArrayPool<byte>.Shared.Return(old);
            }

            _headerBlock = next;
        }

        fragment.CopyTo(_headerBlock.AsSpan(_headerBlockLength));
        _headerBlockLength = needed;
    }

    private ValueTask OnHeaderBlock()
    {
        var id = _headerStreamId;
        var endStream = _headerEndStream;
        _headerStreamId = 0;
        _head.Reset();
        _decoder.Decode(_headerBlock.AsSpan(0, _headerBlockLength), _head);
        if (_headerBlock is { Length: > 16 * 1024 })
        {
            ReturnHeaderBlock();
        }

        var existing = FindStream(id);

        if (existing is not null || id <= _lastStreamId)
        {
            // Trailers of a request: they must end the stream; their fields are not used. A stream
            // id that is closed (or was skipped) cannot carry HEADERS (RFC 9113 5.1.1).
            if (existing is { IsReset: true } || (existing is null && WasResetByUs(id)))
            {
                // RFC 9113 5.4.2: frames the client sent before a reset reached it are ignored (the
                // block was decoded above, so the HPACK table stays in step). A stream still in the
                // map knows it was reset; one already gone is looked up among the recent resets.
                return ValueTask.CompletedTask;
            }

            if (existing is null || existing.RequestEnded)
            {
                throw new Http2ConnectionException(Http2ErrorCode.StreamClosed, $"HEADERS on closed stream {id}");
            }

            if (!endStream)
            {
                return ResetStream(existing, Http2ErrorCode.ProtocolError);
            }

            existing.EndRequest();
            _head.Reset();
            return ValueTask.CompletedTask;
        }

        if ((id & 1) == 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"client opened even-numbered stream {id}");
        }

        _lastStreamId = id;
        var opened = OpenStream(id, endStream);
        _head.Reset();
        return opened;
    }

    private ValueTask OpenStream(int id, bool endStream)
    {
        if (_head.Malformed is { } reason)
        {
            Log.MalformedRequest(_logger, _context.ConnectionId, id, reason);
            return ResetStream(id, Http2ErrorCode.ProtocolError);
        }

        if (_head.Method is null || _head.Path is null || _head.Scheme is null || _head.Path.Length == 0)
        {
            Log.MalformedRequest(_logger, _context.ConnectionId, id, "missing :method, :scheme or :path");
            return ResetStream(id, Http2ErrorCode.ProtocolError);
        }

        lock (_streams)
        {
            if (_closing || _peerGoAway)
            {
                // After GOAWAY new streams are not processed; the client retries elsewhere.
                return ResetStream(id, Http2ErrorCode.RefusedStream);
            }

            if (_streams.Count >= Limits.MaxConcurrentStreams)
            {
                return ResetStream(id, Http2ErrorCode.RefusedStream);
            }
        }

        var stream = new Http2Stream(this, id, new Http2RequestHead(_head.Method, _head.Scheme, _head.Path, _head.Authority, _head.Headers));
        if (_head.TooLarge)
        {
            stream.RejectHeadersTooLarge(_head.ListBytes, Limits.MaxHeaderListBytes);
        }
        else
        {
            stream.BufferResponse = Application.BufferResponse(stream.Path);
        }

        lock (_streams)
        {
            _streams.Add(id, stream);
            _lastStreamActivityAt = Environment.TickCount64;
        }

        if (endStream)
        {
            stream.EndRequest();
        }

        ThreadPool.UnsafeQueueUserWorkItem(stream, preferLocal: false);
        return ValueTask.CompletedTask;
    }

    private void OnRstStream(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        RequireStream(header);
        if (header.Length != 4)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "RST_STREAM payload is not 4 bytes");
        }

        if (header.StreamId > _lastStreamId)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"RST_STREAM on idle stream {header.StreamId}");
        }

        var stream = FindStream(header.StreamId);

        stream?.Reset();
    }

    private ValueTask OnSettings(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        RequireConnection(header);
        if (header.HasFlag(Http2Flags.Ack))
        {
            if (header.Length != 0)
            {
                throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "SETTINGS ACK with a payload");
            }

            return ValueTask.CompletedTask;
        }

        if (header.Length % 6 != 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "SETTINGS payload is not a multiple of 6 bytes");
        }

        _sawSettings = true;
        Span<byte> setting = stackalloc byte[6];
        for (var offset = 0; offset < header.Length; offset += 6)
        {
            payload.Slice(offset, 6).CopyTo(setting);
            var id = BinaryPrimitives.ReadUInt16BigEndian(setting);
            var value = BinaryPrimitives.ReadUInt32BigEndian(setting[2..]);
            switch (id)
            {
                case Http2SettingId.EnablePush when value > 1:
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "SETTINGS_ENABLE_PUSH above 1");
                case Http2SettingId.InitialWindowSize:
                    if (value > Http2FrameHeader.MaxWindow)
                    {
                        throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1");
                    }

                    ApplyInitialWindow(value);
                    break;
                case Http2SettingId.MaxFrameSize:
                    if (value is < Http2FrameHeader.DefaultMaxFrameSize or > 16_777_215)
                    {
                        throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"SETTINGS_MAX_FRAME_SIZE {value} out of range");
                    }

                    Output.PeerMaxFrameSize = (int)value;
                    break;
                default:
                    // HEADER_TABLE_SIZE: our encoder uses no dynamic table, any size suits it.
                    // MAX_CONCURRENT_STREAMS: we never push. MAX_HEADER_LIST_SIZE: advisory. Unknown: ignored.
                    break;
            }
        }

        return Discard(Output.WriteSettingsAckAsync());
    }

    private void ApplyInitialWindow(uint value)
    {
        lock (_flowLock)
        {
            var delta = value - PeerInitialWindow;
            PeerInitialWindow = value;
            lock (_streams)
            {
                foreach (var stream in _streams.Values)
                {
                    stream.SendWindow += delta;
                    if (stream.SendWindow > Http2FrameHeader.MaxWindow)
                    {
                        throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, $"SETTINGS_INITIAL_WINDOW_SIZE overflows the window of stream {stream.Id}");
                    }
                }
            }
        }

        WakeAllSenders();
    }

    private ValueTask OnPing(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        RequireConnection(header);
        if (header.Length != 8)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "PING payload is not 8 bytes");
        }

        if (header.HasFlag(Http2Flags.Ack))
        {
            return ValueTask.CompletedTask;
        }

        Span<byte> opaque = stackalloc byte[8];
        payload.CopyTo(opaque);
        return Discard(Output.WritePingAckAsync(BinaryPrimitives.ReadUInt64BigEndian(opaque)));
    }

    private void OnGoAway(in Http2FrameHeader header)
    {
        RequireConnection(header);
        if (header.Length < 8)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "GOAWAY payload under 8 bytes");
        }

        lock (_streams)
        {
            _peerGoAway = true;
        }

        StopIfDrained();
    }

    private ValueTask OnWindowUpdate(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        if (header.Length != 4)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "WINDOW_UPDATE payload is not 4 bytes");
        }

        Span<byte> raw = stackalloc byte[4];
        payload.CopyTo(raw);
        var increment = (int)(BinaryPrimitives.ReadUInt32BigEndian(raw) & 0x7FFF_FFFF);
        if (header.StreamId == 0)
        {
            if (increment == 0)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "WINDOW_UPDATE of 0 on the connection");
            }

            lock (_flowLock)
            {
                _sendWindow += increment;
                if (_sendWindow > Http2FrameHeader.MaxWindow)
                {
                    throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "connection send window above 2^31-1");
                }
            }

            WakeAllSenders();
            return ValueTask.CompletedTask;
        }

        var stream = FindStream(header.StreamId);

        if (stream is null)
        {
            if (header.StreamId > _lastStreamId)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"WINDOW_UPDATE on idle stream {header.StreamId}");
            }

            return ValueTask.CompletedTask;
        }

        if (increment == 0)
        {
            return ResetStream(stream, Http2ErrorCode.ProtocolError);
        }

        bool overflow;
        lock (_flowLock)
        {
            stream.SendWindow += increment;
            overflow = stream.SendWindow > Http2FrameHeader.MaxWindow;
        }

        if (overflow)
        {
            return ResetStream(stream, Http2ErrorCode.FlowControlError);
        }

        WakeSender(stream);
        return ValueTask.CompletedTask;
    }

    /// <summary>The open stream with this id, or null (never opened, finished, or refused).</summary>
    private Http2Stream? FindStream(int id)
    {
        lock (_streams)
        {
            return _streams.GetValueOrDefault(id);
        }
    }

    // A stream in the map: it is remembered as reset when it leaves the map (OnStreamEnded).
    private ValueTask ResetStream(Http2Stream stream, Http2ErrorCode code)
    {
        stream.Reset();
        return Discard(Output.WriteRstStreamAsync(stream.Id, code));
    }

    // A stream never opened (refused, malformed) or not in the map: remembered now.
    private ValueTask ResetStream(int id, Http2ErrorCode code)
    {
        RememberReset(id);
        return Discard(Output.WriteRstStreamAsync(id, code));
    }

    private static ValueTask Discard(ValueTask<bool> write) =>
        write.IsCompletedSuccessfully ? ValueTask.CompletedTask : new ValueTask(write.AsTask());
}
