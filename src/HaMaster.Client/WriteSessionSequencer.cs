using HaMaster.Protos.V1;

namespace HaMaster.Client;

/// <summary>
/// Numbers this client's logical writes for exactly-once semantics (Raft thesis 6.3).
/// <para>
/// The state machine treats a sequence at or below a session's latest applied one as a duplicate,
/// so within one session writes must reach it in order. Concurrent writes therefore run on
/// separate <em>lanes</em>: each lane is its own session (<c>client_id</c> = the client id for
/// lane 0, <c>{client id}.{n}</c> for lane n) with at most one write outstanding, so a lane's
/// sequences are applied in order and a retry of sequence N finds either N applied (its result is
/// returned) or nothing newer. A sequential caller only ever uses lane 0; a caller with k writes in
/// flight uses k lanes.
/// </para>
/// <para>
/// Each write takes its session once, before its first attempt (<see cref="Next"/>); every retry
/// resends that same session; when the write is settled (answered, or given up) it is handed back
/// (<see cref="Complete"/>), which frees the lane. <c>acknowledged_through</c> is the lane's
/// previous sequence: every earlier write of the lane is settled and will never be resent.
/// </para>
/// Thread-safe.
/// </summary>
public sealed class WriteSessionSequencer
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Lane> _lanes = new(StringComparer.Ordinal);
    // Free lanes, reused last-in-first-out so a sequential caller keeps lane 0.
    private readonly Stack<Lane> _free = new();

    public WriteSessionSequencer(string clientId)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        ClientId = clientId;
    }

    /// <summary>The client id (lane 0's session id; other lanes append ".n").</summary>
    public string ClientId { get; }

    /// <summary>Lanes created so far (the most writes this client had in flight at once).</summary>
    public int LaneCount
    {
        get
        {
            lock (_gate)
            {
                return _lanes.Count;
            }
        }
    }

    /// <summary>Writes currently in flight.</summary>
    public int Outstanding
    {
        get
        {
            lock (_gate)
            {
                return _lanes.Count - _free.Count;
            }
        }
    }

    /// <summary>Takes a free lane (or opens one) and issues the session of a new logical write on it.</summary>
    public ClientSession Next()
    {
        lock (_gate)
        {
            if (!_free.TryPop(out var lane))
            {
                var id = _lanes.Count == 0 ? ClientId : $"{ClientId}.{_lanes.Count}";
                lane = new Lane(id);
                _lanes.Add(id, lane);
            }

            lane.Busy = true;
            lane.Sequence++;
            return new ClientSession { ClientId = lane.Id, Sequence = lane.Sequence, AcknowledgedThrough = lane.Sequence - 1 };
        }
    }

    /// <summary>Marks a write settled (no attempt with this session will be sent again) and frees its lane.</summary>
    public void Complete(ClientSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        lock (_gate)
        {
            if (_lanes.TryGetValue(session.ClientId, out var lane) && lane.Busy && lane.Sequence == session.Sequence)
            {
                lane.Busy = false;
                _free.Push(lane);
            }
        }
    }

    /// <summary>One session with at most one write outstanding. Guarded by the sequencer's lock.</summary>
    private sealed class Lane(string id)
    {
        public string Id { get; } = id;

        public ulong Sequence { get; set; }

        public bool Busy { get; set; }
    }
}
