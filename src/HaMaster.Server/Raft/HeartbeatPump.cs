using System.Diagnostics;
using HaMaster.Raft;

namespace HaMaster.Server.Raft;

/// <summary>
/// Heartbeats that a long loop iteration cannot hold back (issue 19). The leader's heartbeats come from the
/// core's tick, which runs between iterations; one iteration that fsyncs a slow disk or applies a large batch
/// for longer than the (short) election timeout would silence the leader and get it replaced although it is
/// alive. While an iteration runs longer than a heartbeat interval, this pump's thread sends the heartbeats
/// instead: same term, commit 0 and round 0, so a follower only learns that the leader lives (commit never
/// moves backwards; round 0 confirms no read). The answers reach the core after the iteration and count for
/// check-quorum, as they should: the followers did hear us. It is bounded: past two election timeouts of one
/// iteration (a hung disk, a deadlock) it stops, so a leader whose loop is stuck is still replaced, at most that
/// much later. A paused process (SIGSTOP, a GC pause) pauses this thread too, so such a leader is detected as
/// before. <see cref="MarkIteration"/>, <see cref="Refresh"/> and <see cref="StopIfNotLeader"/> run on the loop
/// thread; the pump thread reads what they publish.
/// </summary>
internal sealed class HeartbeatPump(ulong self, TimeSpan interval, TimeSpan coverage, Func<RaftObservedState> observed, Func<IRaftTransport?> transport)
{
    /// <summary>Heartbeats of one leader term to every other member; null while this master does not lead.</summary>
    public sealed record Plan(ulong Term, ClusterConfig Config, Message[] Heartbeats);

    private Plan? _plan;
    private long _iterationStartedAt; // Stopwatch timestamp of the running iteration's start; 0 while the loop waits
    private long _pumpedRounds;
    private Thread? _thread;

    /// <summary>The heartbeats the pump would send now.</summary>
    public Plan? Current => Volatile.Read(ref _plan);

    /// <summary>Heartbeats the pump sent (all peers together count once); for tests and metrics.</summary>
    public long PumpedRounds => Interlocked.Read(ref _pumpedRounds);

    public void Start(CancellationToken stopping)
    {
        _thread = new Thread(() => Run(stopping)) { IsBackground = true, Name = $"raft-heartbeats-{self}" };
        _thread.Start();
    }

    /// <summary>Loop thread: marks the start (or, with false, the end) of an iteration.</summary>
    public void MarkIteration(bool running) => Volatile.Write(ref _iterationStartedAt, running ? Stopwatch.GetTimestamp() : 0);

    /// <summary>Loop thread, after every iteration: keeps the heartbeats current (rebuilt only when the term or membership changed).</summary>
    public void Refresh(RaftRole role, ulong term, ClusterConfig config)
    {
        if (role != RaftRole.Leader)
        {
            if (_plan is not null) Volatile.Write(ref _plan, null);
            return;
        }

        var plan = _plan;
        if (plan is not null && plan.Term == term && ReferenceEquals(plan.Config, config)) return;
        var heartbeats = config.Members
            .Where(id => id != self)
            .Select(id => new Message { Type = MessageType.Heartbeat, From = self, To = id, Term = term })
            .ToArray();
        Volatile.Write(ref _plan, new Plan(term, config, heartbeats));
    }

    /// <summary>Loop thread, after delivering peer messages: a leader that just stepped down must stop pumping at once.</summary>
    public void StopIfNotLeader(RaftRole role)
    {
        if (_plan is not null && role != RaftRole.Leader) Volatile.Write(ref _plan, null);
    }

    /// <summary>
    /// Whether to send now: the running iteration has been busy for at least a heartbeat interval but not past
    /// the coverage bound, and the last heartbeat (ours or the loop's, at the iteration start) is an interval old.
    /// </summary>
    public bool Due(TimeSpan busy, TimeSpan sinceLastSent) => busy >= interval && busy <= coverage && sinceLastSent >= interval;

    /// <summary>Pump thread: sends the plan's heartbeats if this master still leads in its term.</summary>
    public bool TrySend()
    {
        var plan = Volatile.Read(ref _plan);
        var o = observed();
        if (plan is null || o.Role != RaftRole.Leader || o.Term != plan.Term) return false;
        transport()?.Send(plan.Heartbeats);
        Interlocked.Increment(ref _pumpedRounds);
        return true;
    }

    private void Run(CancellationToken stopping)
    {
        var check = interval / 2;
        var lastSent = 0L;
        while (!stopping.IsCancellationRequested)
        {
            Thread.Sleep(check);
            var started = Volatile.Read(ref _iterationStartedAt);
            if (started == 0) continue; // the loop waits: it ticks, and heartbeats, on time itself
            if (!Due(Stopwatch.GetElapsedTime(started), Stopwatch.GetElapsedTime(Math.Max(lastSent, started)))) continue;
            if (TrySend()) lastSent = Stopwatch.GetTimestamp();
        }
    }
}
