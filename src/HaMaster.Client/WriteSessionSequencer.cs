using HaMaster.Protos.V1;

namespace HaMaster.Client;

/// <summary>
/// Numbers this client's logical writes for exactly-once semantics (Raft thesis 6.3). Each write
/// takes a fresh sequence once, before its first attempt, and every retry resends the same
/// <see cref="ClientSession"/>; when the write is settled (answered, or given up) it is marked
/// <see cref="Complete"/> so <c>acknowledged_through</c> can advance over it.
/// Thread-safe: writes may run concurrently; the acknowledged watermark only ever grows.
/// </summary>
public sealed class WriteSessionSequencer
{
    private readonly Lock _gate = new();
    // Completed sequences above the contiguous watermark (writes finishing out of order).
    private readonly HashSet<ulong> _completedAhead = [];
    private ulong _lastIssued;
    private ulong _acknowledgedThrough;

    public WriteSessionSequencer(string clientId)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        ClientId = clientId;
    }

    /// <summary>The session id sent as <c>client_id</c>.</summary>
    public string ClientId { get; }

    /// <summary>Highest sequence such that it and every lower one are settled.</summary>
    public ulong AcknowledgedThrough
    {
        get
        {
            lock (_gate)
            {
                return _acknowledgedThrough;
            }
        }
    }

    /// <summary>Number of sequences issued so far.</summary>
    public ulong LastIssued
    {
        get
        {
            lock (_gate)
            {
                return _lastIssued;
            }
        }
    }

    /// <summary>Issues the session of a new logical write (sequence = previous + 1).</summary>
    public ClientSession Next()
    {
        lock (_gate)
        {
            _lastIssued++;
            return new ClientSession
            {
                ClientId = ClientId,
                Sequence = _lastIssued,
                AcknowledgedThrough = _acknowledgedThrough,
            };
        }
    }

    /// <summary>Marks a write settled: no attempt with this sequence will be sent again.</summary>
    public void Complete(ulong sequence)
    {
        lock (_gate)
        {
            if (sequence <= _acknowledgedThrough || sequence > _lastIssued)
            {
                return;
            }

            if (sequence != _acknowledgedThrough + 1)
            {
                _completedAhead.Add(sequence);
                return;
            }

            _acknowledgedThrough = sequence;
            while (_completedAhead.Remove(_acknowledgedThrough + 1))
            {
                _acknowledgedThrough++;
            }
        }
    }
}
