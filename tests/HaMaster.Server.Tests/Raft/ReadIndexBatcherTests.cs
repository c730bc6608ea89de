using System.Buffers.Binary;
using HaMaster.Raft;
using HaMaster.Server.Raft;

namespace HaMaster.Server.Tests.Raft;

/// <summary>
/// Read-index batching driven by hand, in the style of etcd's interaction tests: the fake core records the
/// ReadIndex requests, the test answers them as ReadStates, ticks the clock and moves the applied index.
/// </summary>
public sealed class ReadIndexBatcherTests
{
    private const int ElectionTicks = 10;
    private readonly List<ulong> _requests = [];
    private readonly Queue<Action> _posted = new();
    private readonly AppliedWaiters _waiters = new();
    private readonly ReadIndexBatcher _reads;
    private ulong _leader = 1;
    private ulong _applied;

    public ReadIndexBatcherTests()
    {
        _reads = new ReadIndexBatcher(ctx => _requests.Add(BinaryPrimitives.ReadUInt64LittleEndian(ctx.Span)), () => _leader, () => _applied, _posted.Enqueue, _waiters, ElectionTicks);
    }

    private TaskCompletionSource<ulong> Read()
    {
        var r = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
        _reads.Enqueue(r);
        return r;
    }

    private void RunPosted()
    {
        for (var i = 0; i < 100 && _posted.TryDequeue(out var work); i++) work();
    }

    private static byte[] Context(ulong ctx)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ctx);
        return bytes;
    }

    private void Answer(ulong ctx, ulong index) => _reads.OnReadState(new ReadState(index, Context(ctx)));

    private void Apply(ulong index)
    {
        _applied = index;
        _waiters.Release(index);
    }

    [Fact]
    public async Task Reads_queued_together_share_one_ReadIndex_and_complete_once_applied()
    {
        var reads = Enumerable.Range(0, 5).Select(_ => Read()).ToList();
        RunPosted();
        Assert.Single(_requests);

        Answer(_requests[0], index: 42);
        Assert.Equal(5, _reads.LinearizableReads);
        Assert.All(reads, r => Assert.False(r.Task.IsCompleted)); // confirmed, but 42 is not applied yet
        Apply(42);
        foreach (var r in reads) Assert.Equal(42ul, await r.Task);
        Assert.Equal(1, _reads.ReadIndexRequests);
    }

    [Fact]
    public async Task Reads_arriving_while_a_ReadIndex_is_out_wait_for_the_next_one()
    {
        _applied = 100;
        var first = Read();
        RunPosted();
        var second = Read();
        var third = Read();
        RunPosted();
        Assert.Single(_requests);

        Answer(_requests[0], 100);
        Assert.Equal(100ul, await first.Task);
        RunPosted(); // the answer sends the queue behind it
        Assert.Equal(2, _requests.Count);
        Answer(_requests[1], 100);
        Assert.Equal(100ul, await second.Task);
        Assert.Equal(100ul, await third.Task);
    }

    [Fact]
    public async Task A_read_with_no_leader_fails_at_once()
    {
        _leader = 0;
        var r = Read();
        RunPosted();
        var e = await Assert.ThrowsAsync<NotLeaderException>(() => r.Task);
        Assert.Contains("no leader", e.Message, StringComparison.Ordinal);
        Assert.Empty(_requests);
    }

    [Fact]
    public async Task An_unanswered_ReadIndex_is_reissued_under_a_new_context_and_a_late_answer_is_ignored()
    {
        var r = Read();
        RunPosted();
        for (var t = 0; t <= ElectionTicks; t++) _reads.Tick();
        Assert.Equal(2, _requests.Count);
        Assert.NotEqual(_requests[0], _requests[1]);

        Answer(_requests[0], 5); // the lost answer turns up: ignored
        Assert.False(r.Task.IsCompleted);
        _applied = 7;
        Answer(_requests[1], 7);
        Assert.Equal(7ul, await r.Task);
    }

    [Fact]
    public async Task A_read_fails_after_its_attempts_instead_of_hanging()
    {
        var r = Read();
        RunPosted();
        for (var t = 0; t < (ElectionTicks + 1) * ReadIndexBatcher.ReadAttempts + 1 && !r.Task.IsCompleted; t++) _reads.Tick();

        await Assert.ThrowsAsync<NotLeaderException>(() => r.Task);
        Assert.Equal(ReadIndexBatcher.ReadAttempts, _requests.Count);
        Assert.Equal(0, _reads.Outstanding);
    }

    [Fact]
    public async Task A_dropped_ReadIndex_fails_its_reads()
    {
        var r = Read();
        RunPosted();
        _reads.OnReadDropped(Context(_requests[0]));
        var e = await Assert.ThrowsAsync<NotLeaderException>(() => r.Task);
        Assert.Contains("leadership changing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Confirmed_reads_are_released_in_index_order_as_applying_advances()
    {
        var low = Read();
        RunPosted();
        Answer(_requests[0], 10);
        var high = Read();
        RunPosted();
        Answer(_requests[1], 20);

        Apply(15);
        Assert.Equal(10ul, await low.Task);
        Assert.False(high.Task.IsCompleted);
        Apply(20);
        Assert.Equal(20ul, await high.Task);
    }

    [Fact]
    public async Task Applied_waiters_are_released_lowest_index_first_and_only_up_to_the_applied_index()
    {
        var at30 = _waiters.WaitFor(30, applied: 0);
        var at10 = _waiters.WaitFor(10, applied: 0);
        var at20 = _waiters.WaitFor(20, applied: 0);

        _waiters.Release(15);
        await at10;
        Assert.False(at20.IsCompleted);
        Assert.False(at30.IsCompleted);
        Assert.Equal(2, _waiters.Count);
        _waiters.Release(30);
        await Task.WhenAll(at20, at30);
        Assert.True(_waiters.WaitFor(5, applied: 30).IsCompleted);
    }

    [Fact]
    public async Task A_stopped_loop_fails_queued_and_outstanding_reads()
    {
        var outstanding = Read();
        RunPosted();
        var queued = Read();
        var disk = new IOException("disk gone");
        _reads.FailAll(disk);
        Assert.Same(disk, await Assert.ThrowsAsync<IOException>(() => outstanding.Task));
        Assert.Same(disk, await Assert.ThrowsAsync<IOException>(() => queued.Task));
    }
}
