using System.Diagnostics;
using HaMaster.Raft;

namespace HaMaster.Server.Raft;

// Heartbeats that a long loop iteration cannot hold back (issue 19). The leader's heartbeats come from the core's
// tick, which runs between iterations; one iteration that fsyncs a slow disk or applies a large batch for longer than
// the (short) election timeout would silence the leader and get it replaced although it is alive. While an iteration
// runs longer than a heartbeat interval, this thread sends the heartbeats instead: same term, commit 0 and round 0,
// so a follower only learns that the leader lives (commit never moves backwards; round 0 confirms no read). The
// answers reach the core after the iteration and count for check-quorum, as they should: the followers did hear us.
// It is bounded: past two election timeouts of one iteration (a hung disk, a deadlock) it stops, so a leader whose
// loop is stuck is still replaced, at most that much later. A paused process (SIGSTOP, a GC pause) pauses this thread
// too, so such a leader is detected as before.
internal sealed partial class RaftHost
{
    /// <summary>Heartbeats of one leader term to every other member; null while this master does not lead.</summary>
    private sealed record HeartbeatPlan(ulong Term, ClusterConfig Config, Message[] Heartbeats);

    private HeartbeatPlan? _heartbeatPlan;
    private long _iterationStartedAt; // Stopwatch timestamp of the running iteration's start; 0 while the loop waits
    private Thread? _heartbeatThread;

    /// <summary>Heartbeats the pump sent (all peers together count once); for tests and metrics.</summary>
    internal long PumpedHeartbeatRounds => Interlocked.Read(ref _pumpedRounds);

    private long _pumpedRounds;

    private void StartHeartbeatPump()
    {
        _heartbeatThread = new Thread(RunHeartbeatPump) { IsBackground = true, Name = $"raft-heartbeats-{_options.NodeId}" };
        _heartbeatThread.Start();
    }

    /// <summary>Loop thread: marks the start (or, with false, the end) of an iteration for the pump.</summary>
    private void MarkIteration(bool running) => Volatile.Write(ref _iterationStartedAt, running ? Stopwatch.GetTimestamp() : 0);

    /// <summary>Loop thread, after every iteration: keeps the pump's heartbeats current (rebuilt only when the term or membership changed).</summary>
    private void RefreshHeartbeatPlan()
    {
        if (_node.Role != RaftRole.Leader)
        {
            if (_heartbeatPlan is not null) Volatile.Write(ref _heartbeatPlan, null);
            return;
        }

        var term = _node.Term;
        var config = _node.Configuration;
        var plan = _heartbeatPlan;
        if (plan is not null && plan.Term == term && ReferenceEquals(plan.Config, config)) return;
        var heartbeats = config.Members
            .Where(id => id != _options.NodeId)
            .Select(id => new Message { Type = MessageType.Heartbeat, From = _options.NodeId, To = id, Term = term })
            .ToArray();
        Volatile.Write(ref _heartbeatPlan, new HeartbeatPlan(term, config, heartbeats));
    }

    /// <summary>Loop thread, after delivering peer messages: a leader that just stepped down must stop pumping at once.</summary>
    private void StopPumpIfNotLeader()
    {
        if (_heartbeatPlan is not null && _node.Role != RaftRole.Leader) Volatile.Write(ref _heartbeatPlan, null);
    }

    private void RunHeartbeatPump()
    {
        var interval = _options.TickInterval * _options.HeartbeatTicks;
        var coverage = _options.TickInterval * (2 * _options.ElectionTicks);
        var check = interval / 2;
        var lastSent = 0L;
        while (!_stopping.IsCancellationRequested)
        {
            Thread.Sleep(check);
            var started = Volatile.Read(ref _iterationStartedAt);
            if (started == 0) continue; // the loop waits: it ticks, and heartbeats, on time itself
            var busy = Stopwatch.GetElapsedTime(started);
            if (busy < interval || busy > coverage || Stopwatch.GetElapsedTime(Math.Max(lastSent, started)) < interval) continue;
            var plan = Volatile.Read(ref _heartbeatPlan);
            var observed = _observed;
            if (plan is null || observed.Role != RaftRole.Leader || observed.Term != plan.Term) continue;
            Transport?.Send(plan.Heartbeats);
            lastSent = Stopwatch.GetTimestamp();
            Interlocked.Increment(ref _pumpedRounds);
        }
    }
}
