using System.Text.Json;
using HaMaster.Chaos.Core.History;
using HaMaster.Chaos.Core.Linearizability;
using HaMaster.Chaos.Core.Models;

namespace HaMaster.Chaos.Core.Tests;

public sealed class EventHistoryTests
{
    [Fact]
    public void Converts_outcomes_for_the_checker()
    {
        var time = new ManualTime();
        var history = new EventHistory<FsInput, FsOutput>(time);
        var ok = history.Invoke(1, FsInput.Mkdir("/d"));
        time.Advance(TimeSpan.FromTicks(5));
        history.Ok(ok, FsOutput.Ok);
        var failed = history.Invoke(2, FsInput.Mkdir("/e"));
        history.Fail(failed, "not leader");
        var unknown = history.Invoke(3, FsInput.Mkdir("/f"));
        history.Unknown(unknown, "deadline exceeded");
        history.Invoke(4, FsInput.Mkdir("/g"));

        var ops = history.ToOperations();
        Assert.Equal(3, ops.Count);
        Assert.Equal((0L, 5L), (ops[0].CallTime, ops[0].ReturnTime));
        Assert.Equal(FsOutput.Ok, ops[0].Output);
        Assert.True(ops[1].IsUnknown);
        Assert.True(ops[2].IsUnknown);
        Assert.DoesNotContain(ops, o => o.Input.Path == "/e");
        Assert.Throws<InvalidOperationException>(() => history.Ok(ok, FsOutput.Ok));
    }

    [Fact]
    public async Task Concurrent_recording_keeps_every_operation()
    {
        var history = new EventHistory<KvInput, KvOutput>();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(client => Task.Run(() =>
        {
            for (var i = 0; i < 500; i++)
            {
                var id = history.Invoke(client, KvInput.Write("k", i.ToString()));
                history.Ok(id, KvOutput.Done);
            }
        })));
        var entries = history.Entries();
        Assert.Equal(2000, entries.Count);
        Assert.Equal(2000, entries.Select(e => e.Id).Distinct().Count());
        Assert.All(entries, e => Assert.True(e.ReturnTime >= e.CallTime));
    }

    [Fact]
    public async Task Writes_one_json_object_per_event_in_time_order()
    {
        var time = new ManualTime();
        var history = new EventHistory<FsInput, FsOutput>(time);
        var a = history.Invoke(1, FsInput.CreateFile("/f"));
        time.Advance(TimeSpan.FromTicks(10));
        history.RecordFault("kill", "node 2");
        time.Advance(TimeSpan.FromTicks(10));
        history.Ok(a, FsOutput.Of(FsStatus.AlreadyExists));
        var b = history.Invoke(2, FsInput.List("/"));
        history.Unknown(b, "timeout");
        var path = Path.Combine(Path.GetTempPath(), $"history-{Guid.NewGuid():N}.jsonl");
        try
        {
            await history.WriteJsonLinesAsync(path);
            var lines = await File.ReadAllLinesAsync(path);
            var types = lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("type").GetString() ?? "").ToArray();
            Assert.Equal(["invoke", "fault", "ok", "invoke", "unknown"], types);
            Assert.Contains("AlreadyExists", lines[2]);
            Assert.Contains("\"/f\"", lines[0]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task History_file_round_trips_entries_faults_and_verdict()
    {
        var time = new ManualTime();
        var history = new EventHistory<FsInput, FsOutput>(time);
        void Do(int client, FsInput input, FsOutput output)
        {
            var id = history.Invoke(client, input);
            time.Advance(TimeSpan.FromTicks(3));
            history.Ok(id, output);
        }

        Do(1, FsInput.Mkdir("/d"), FsOutput.Ok);
        Do(2, FsInput.CreateFile("/d/f", 384), FsOutput.Ok);
        history.RecordFault("pause", "node 1");
        Do(1, FsInput.Rename("/d/f", "/d/g"), FsOutput.Ok);
        Do(2, FsInput.List("/d"), FsOutput.Listing(["g"]));
        Do(2, FsInput.GetStatus("/d/g"), FsOutput.Found(FsKind.File, 384));
        history.Fail(history.Invoke(3, FsInput.Delete("/d")), "not leader");
        history.Unknown(history.Invoke(3, FsInput.Delete("/d/g")), "timeout");
        Do(1, FsInput.List("/d"), FsOutput.Listing([]));
        var path = Path.Combine(Path.GetTempPath(), $"history-{Guid.NewGuid():N}.jsonl");
        try
        {
            await history.WriteJsonLinesAsync(path);
            var (entries, faults) = await HistoryFile.ReadAsync<FsInput, FsOutput>(path);
            Assert.Equal(history.Entries(), entries);
            Assert.Equal(history.Faults(), faults);
            var checker = new LinearizabilityChecker<FsState, FsInput, FsOutput>(new FsModel());
            Assert.True(checker.Check(HistoryFile.ToOperations(entries)).IsLinearizable);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Recorded_history_feeds_the_checker()
    {
        var history = new EventHistory<FsInput, FsOutput>(new ManualTime());
        var id = history.Invoke(1, FsInput.Mkdir("/d"));
        history.Ok(id, FsOutput.Ok);
        var checker = new LinearizabilityChecker<FsState, FsInput, FsOutput>(new FsModel());
        Assert.True(checker.Check(history.ToOperations()).IsLinearizable);
    }
}
