using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace HaMaster.Server.Hosting;

/// <summary>
/// The request body of one admitted client call as grpc-dotnet reads it: a pass-through
/// <see cref="PipeReader"/> that charges the bytes handed out and not yet consumed to
/// <see cref="ClientAdmission"/>'s budgets. grpc-dotnet examines a partial message without
/// consuming it until the whole message has arrived, so these are exactly the bytes a caller
/// makes the master hold by announcing a large message and sending part of it. A read that
/// would exceed a budget, or that comes after the call's body deadline, fails with
/// RESOURCE_EXHAUSTED (grpc-dotnet answers the call with it and the stream is reset).
/// Used by one call at a time, as a pipe reader is; <see cref="Release"/> runs when the call ends.
/// </summary>
internal sealed class BudgetedBodyReader(PipeReader inner, ClientAdmission admission, ClientAdmission.ConnectionBudget? connection)
    : PipeReader, IRequestBodyPipeFeature
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private ReadOnlySequence<byte> _last;
    private long _held;
    private CancellationTokenSource? _deadline;

    PipeReader IRequestBodyPipeFeature.Reader => this;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        _deadline ??= new CancellationTokenSource(Remaining());
        ReadResult result;
        try
        {
            if (cancellationToken.CanBeCanceled)
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _deadline.Token);
                result = await inner.ReadAsync(linked.Token).ConfigureAwait(false);
            }
            else
            {
                result = await inner.ReadAsync(_deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw admission.Refused(ClientAdmission.ReasonBodyTimeout, string.Create(CultureInfo.InvariantCulture,
                $"the request message did not arrive within {admission.Limits.RequestBodyTimeout.TotalSeconds:0.#} s"));
        }

        Charge(result);
        return result;
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result)) return false;
        Charge(result);
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed)
    {
        Consume(consumed);
        inner.AdvanceTo(consumed);
    }

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        Consume(consumed);
        inner.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    /// <summary>Returns what this call still holds to the budgets; called once when the call ends.</summary>
    public void Release()
    {
        admission.Uncharge(connection, _held);
        _held = 0;
        _last = default;
        _deadline?.Dispose();
    }

    private TimeSpan Remaining()
    {
        var left = admission.Limits.RequestBodyTimeout - Stopwatch.GetElapsedTime(_started);
        return left > TimeSpan.Zero ? left : TimeSpan.FromTicks(1);
    }

    private void Charge(ReadResult result)
    {
        var held = result.Buffer.Length;
        if (admission.TryCharge(connection, held - _held, held) is { } refusal)
        {
            throw admission.Refused(refusal.Reason, refusal.Message);
        }

        _held = held;
        _last = result.Buffer;
    }

    private void Consume(SequencePosition consumed)
    {
        var held = _last.IsEmpty ? 0 : _last.Slice(consumed).Length;
        admission.Uncharge(connection, _held - held);
        _held = held;
        _last = default;
    }
}
