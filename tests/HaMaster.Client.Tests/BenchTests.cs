using System.Collections.Concurrent;
using System.Text.Json;
using Google.Protobuf;
using HaMaster.Cli;
using HaMaster.Bench.Load;
using HaMaster.Bench.Load.Etcd;
using Grpc.Core;
using HaMaster.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace HaMaster.Client.Tests;

public sealed class BenchTests : IAsyncLifetime
{
    private FakeCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await FakeCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Theory]
    [InlineData("Write")]
    [InlineData("Read")]
    [InlineData("ReadStale")]
    [InlineData("List")]
    [InlineData("Mixed")]
    public async Task HaMaster_workloads_run_the_requested_number_of_operations(string workloadName)
    {
        var workload = Enum.Parse<BenchWorkload>(workloadName);
        var options = new BenchOptions
        {
            Endpoints = [_cluster.Leader.Address],
            Workload = workload,
            Concurrency = 8,
            Operations = 120,
            Directories = 4,
            Spread = false,
        };
        await using var target = new HaMasterBenchTarget(options);

        var report = await LoadGenerator.RunAsync(options, target, CancellationToken.None);

        Assert.Equal(0, report.Errors);
        Assert.Equal(120, report.Operations);
        Assert.True(report.P50Ms > 0 && report.P50Ms <= report.P99Ms && report.P99Ms <= report.P999Ms && report.P999Ms <= report.MaxMs);
        Assert.Equal(LoadGenerator.WorkloadName(workload), report.Workload);
        if (workload == BenchWorkload.Write)
        {
            Assert.Equal(120, _cluster.Leader.Calls("CreateFile"));
            // Creates were spread over the 4 directories, 30 each.
            Assert.All(Enumerable.Range(0, 4), d => Assert.Equal(30, _cluster.Namespace.List($"/bench/{options.RunId}/d{d}", 1000, "").Entries.Count));
        }
    }

    [Fact]
    public async Task Measured_requests_are_raw_so_failures_count_as_errors()
    {
        // Spread over the members: the redirecting follower answers UNAVAILABLE and is not retried.
        var options = new BenchOptions { Endpoints = [_cluster.Leader.Address], Workload = BenchWorkload.Read, Concurrency = 2, Operations = 40, Spread = true };
        await using var target = new HaMasterBenchTarget(options);

        var report = await LoadGenerator.RunAsync(options, target, CancellationToken.None);

        Assert.True(report.Errors > 0);
        Assert.Equal(40, report.Operations + report.Errors);
        Assert.Contains("not the leader", report.FirstError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Write")]
    [InlineData("Read")]
    [InlineData("ReadStale")]
    [InlineData("List")]
    public async Task Etcd_target_speaks_the_etcd_kv_wire_format(string workloadName)
    {
        var workload = Enum.Parse<BenchWorkload>(workloadName);
        await using var etcd = await FakeEtcd.StartAsync();
        var options = new BenchOptions { Target = BenchTarget.Etcd, Endpoints = [etcd.Address], Workload = workload, Concurrency = 4, Operations = 60 };
        await using var target = new EtcdBenchTarget(options);

        var report = await LoadGenerator.RunAsync(options, target, CancellationToken.None);

        Assert.Equal(0, report.Errors);
        Assert.Equal(60, report.Operations);
        Assert.All(etcd.Keys, k => Assert.Equal(16, k.Length));
        Assert.All(etcd.Values, v => Assert.Equal(100, v.Length));
        if (workload == BenchWorkload.ReadStale)
        {
            Assert.True(etcd.SerializableRanges >= 60);
        }

        if (workload == BenchWorkload.Write)
        {
            Assert.Equal(60, etcd.Keys.Count);
        }
    }

    [Fact]
    public async Task Etcd_target_sends_to_the_leader_unless_spreading()
    {
        await using var follower = await FakeEtcd.StartAsync(memberId: 11, leaderId: 22);
        await using var leader = await FakeEtcd.StartAsync(memberId: 22, leaderId: 22);
        var options = new BenchOptions { Target = BenchTarget.Etcd, Endpoints = [follower.Address, leader.Address], Workload = BenchWorkload.Write, Concurrency = 4, Operations = 40 };
        await using (var target = new EtcdBenchTarget(options))
        {
            var report = await LoadGenerator.RunAsync(options, target, CancellationToken.None);
            Assert.Equal(0, report.Errors);
        }

        Assert.Equal(40, leader.Keys.Count);
        Assert.Empty(follower.Keys);

        var spread = options with { Spread = true, RunId = "0000beef" };
        await using (var target = new EtcdBenchTarget(spread))
        {
            _ = await LoadGenerator.RunAsync(spread, target, CancellationToken.None);
        }

        Assert.Equal(20, follower.Keys.Count);
    }

    [Fact]
    public async Task Requests_during_the_warmup_reach_the_server_but_are_not_measured()
    {
        await using var etcd = await FakeEtcd.StartAsync();
        var options = new BenchOptions
        {
            Target = BenchTarget.Etcd, Endpoints = [etcd.Address], Workload = BenchWorkload.Write, Concurrency = 2,
            Warmup = TimeSpan.FromMilliseconds(500), Duration = TimeSpan.FromMilliseconds(300),
        };
        await using var target = new EtcdBenchTarget(options);

        var report = await LoadGenerator.RunAsync(options, target, CancellationToken.None);

        Assert.Equal(0, report.Errors);
        Assert.True(etcd.Keys.Count > report.Operations, $"{etcd.Keys.Count} puts reached the server, {report.Operations} measured");
        // The rate is over the measured window only, not over warm-up + window.
        Assert.InRange(report.Seconds, 0.3, 30.0);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-2s")]
    public async Task A_bad_warmup_is_a_usage_error_that_names_it(string warmup)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await BenchCommandLine.RunAsync(["--masters", _cluster.Leader.Address, "-n", "5", "--warmup", warmup], output, error);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith("error: --warmup: ", error.ToString(), StringComparison.Ordinal);
        Assert.Contains($"'{warmup}' is not a duration", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(output.ToString());
    }

    [Theory]
    [InlineData("--workload", "delete")]
    [InlineData("--shape", "sideways")]
    [InlineData("paths", "--op", "rename", "--paths-file", "/nonexistent")]
    public async Task Unknown_choices_are_usage_errors_without_calling_a_master(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await BenchCommandLine.RunAsync(["--masters", _cluster.Leader.Address, .. args], output, error);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("hamaster-bench --help", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, _cluster.Leader.Calls("GetClusterInfo") + _cluster.Leader.Calls("GetStatus"));
    }

    [Fact]
    public async Task Help_lists_the_subcommands_and_the_shared_connection_flags()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.Equal(ExitCodes.Ok, await BenchCommandLine.RunAsync(["--help"], output, error));
        foreach (var word in new[] { "availability", "fleet", "bulk-load", "paths", "--server-pids", "--masters", "--tls-ca", "6 unavailable" })
        {
            Assert.Contains(word, output.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Concurrency_lists_parse_and_bad_ones_are_usage_errors()
    {
        Assert.Equal(new[] { 1, 16, 64, 256 }, BenchCommandLine.ParseLevels("1,16, 64,256"));
        Assert.Throws<FormatException>(() => BenchCommandLine.ParseLevels("0"));
        Assert.Throws<FormatException>(() => BenchCommandLine.ParseLevels("4,x"));
        Assert.Throws<FormatException>(() => BenchCommandLine.ParseLevels(","));
    }

    [Fact]
    public void Etcd_prefix_end_increments_the_last_byte()
    {
        var end = EtcdBenchTarget.PrefixEnd(ByteString.CopyFromUtf8("abc"));
        Assert.Equal("abd", end.ToStringUtf8());
    }

    [Fact]
    public async Task Bench_command_prints_a_table_or_json()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await BenchCommandLine.RunAsync(
            ["--masters", _cluster.Leader.Address, "--workload", "write", "-c", "4", "--ops", "50", "--shape", "leader", "--json"], output, error);

        Assert.Equal(ExitCodes.Ok, code);
        using var doc = JsonDocument.Parse(output.ToString());
        Assert.Equal(50, doc.RootElement.GetProperty("operations").GetInt64());
        Assert.Equal("hamaster", doc.RootElement.GetProperty("target").GetString());
        Assert.Equal("leader", doc.RootElement.GetProperty("shape").GetString());
        Assert.True(doc.RootElement.GetProperty("opsPerSecond").GetDouble() > 0);

        using var table = new StringWriter();
        code = await BenchCommandLine.RunAsync(["--masters", _cluster.Leader.Address, "--workload", "list", "-n", "20", "--shape", "leader"], table, error);
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("P99.9_MS", table.ToString(), StringComparison.Ordinal);
        Assert.Contains("hamaster  list", table.ToString(), StringComparison.Ordinal);

        using var sweep = new StringWriter();
        code = await BenchCommandLine.RunAsync(["--masters", _cluster.Leader.Address, "--workload", "write", "-c", "1,4", "-n", "20", "--shape", "leader", "--json"], sweep, error);
        Assert.Equal(ExitCodes.Ok, code);
        using var rounds = JsonDocument.Parse(sweep.ToString());
        Assert.Equal(new[] { 1, 4 }, rounds.RootElement.EnumerateArray().Select(e => e.GetProperty("concurrency").GetInt32()));
        Assert.All(rounds.RootElement.EnumerateArray(), e => Assert.Equal(0, e.GetProperty("errors").GetInt64()));
    }

    [Fact]
    public async Task Bulk_load_creates_the_files_in_calls_of_per_call_and_bad_options_are_usage_errors()
    {
        var before = _cluster.Namespace.Count;
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await BenchCommandLine.RunAsync(
            ["bulk-load", "--masters", _cluster.Leader.Address, "--files", "2500", "--per-call", "1000", "-c", "2", "--run-id", "0000b01c", "--json"], output, error);

        Assert.True(code == ExitCodes.Ok, error.ToString());
        using var doc = JsonDocument.Parse(output.ToString());
        Assert.Equal((2500L, 3L, 0L), (doc.RootElement.GetProperty("operations").GetInt64(), doc.RootElement.GetProperty("calls").GetInt64(), doc.RootElement.GetProperty("errors").GetInt64()));
        // 2,500 files, three directories and the run's root.
        Assert.Equal(before + 2500 + 3 + 1, _cluster.Namespace.Count);

        using var badOutput = new StringWriter();
        using var badError = new StringWriter();
        Assert.Equal(ExitCodes.Usage, await BenchCommandLine.RunAsync(["bulk-load", "--masters", _cluster.Leader.Address, "--per-call", "1001"], badOutput, badError));
        Assert.Contains("--per-call must be 1..1000", badError.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Spread_is_the_command_line_default_shape()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        _ = await BenchCommandLine.RunAsync(["--masters", _cluster.Leader.Address, "--workload", "read", "-n", "12", "--json"], output, error);

        using var doc = JsonDocument.Parse(output.ToString());
        Assert.Equal("spread", doc.RootElement.GetProperty("shape").GetString());
        // The fake cluster's followers redirect instead of serving: spread requests reached them.
        Assert.True(doc.RootElement.GetProperty("errors").GetInt64() > 0);
    }

    [Fact]
    public async Task Server_pids_add_cpu_figures_over_the_measured_interval()
    {
        // The fake masters run in this process, so its own PID is the "server".
        var options = new BenchOptions
        {
            Endpoints = [_cluster.Leader.Address], Workload = BenchWorkload.Read, Concurrency = 4, Duration = TimeSpan.FromMilliseconds(400),
            Warmup = TimeSpan.FromMilliseconds(100), ServerPids = [Environment.ProcessId],
        };
        await using var target = new HaMasterBenchTarget(options);

        var report = await LoadGenerator.RunAsync(options, target, CancellationToken.None);

        Assert.True(report.Operations > 0);
        Assert.Equal(Environment.ProcessorCount, report.GeneratorUsableCores);
        if (OperatingSystem.IsLinux())
        {
            Assert.NotNull(report.ServerCpuMsPerOp);
            Assert.True(report.ServerCpuMsPerOp >= 0 && report.GeneratorCpuCores >= 0);
            Assert.InRange(report.MachineBusyFraction!.Value, 0.0, 1.0);
        }
    }

    [Fact]
    public async Task Duration_bounded_run_stops_by_itself()
    {
        var options = new BenchOptions { Endpoints = [_cluster.Leader.Address], Workload = BenchWorkload.Read, Concurrency = 2, Duration = TimeSpan.FromMilliseconds(300), Spread = false };
        await using var target = new HaMasterBenchTarget(options);

        var report = await LoadGenerator.RunAsync(options, target, CancellationToken.None);

        // It ends on its own shortly after the duration (requests in flight finish first).
        Assert.InRange(report.Seconds, 0.0, 10.0);
        Assert.Equal(0, report.Errors);
    }

    /// <summary>A fake etcd KV endpoint: Put and Range over a sorted in-memory map.</summary>
    private sealed class FakeEtcd : IAsyncDisposable
    {
        private readonly ConcurrentDictionary<string, byte[]> _data = new(StringComparer.Ordinal);
        private InProcessGrpcServer _host = null!;
        private int _serializable;

        public string Address => $"127.0.0.1:{_host.Port}";

        public ICollection<string> Keys => _data.Keys;

        public ICollection<byte[]> Values => _data.Values;

        public int SerializableRanges => Volatile.Read(ref _serializable);

        public static async Task<FakeEtcd> StartAsync(ulong memberId = 1, ulong leaderId = 1)
        {
            var etcd = new FakeEtcd();
            var kv = new FakeKv(etcd);
            var maintenance = new FakeMaintenance(memberId, leaderId);
            etcd._host = await InProcessGrpcServer.StartAsync(
                services => services.AddSingleton(kv).AddSingleton(maintenance),
                app =>
                {
                    app.MapGrpcService<FakeKv>();
                    app.MapGrpcService<FakeMaintenance>();
                });
            return etcd;
        }

        public ValueTask DisposeAsync() => _host.DisposeAsync();

        private sealed class FakeMaintenance(ulong memberId, ulong leaderId) : Maintenance.MaintenanceBase
        {
            public override Task<StatusResponse> Status(StatusRequest request, ServerCallContext context) =>
                Task.FromResult(new StatusResponse { Header = new ResponseHeader { MemberId = memberId }, Leader = leaderId });
        }

        private sealed class FakeKv(FakeEtcd etcd) : KV.KVBase
        {
            public override Task<PutResponse> Put(PutRequest r, ServerCallContext context)
            {
                etcd._data[r.Key.ToStringUtf8()] = r.Value.ToByteArray();
                return Task.FromResult(new PutResponse { Header = new ResponseHeader { Revision = etcd._data.Count } });
            }

            public override Task<RangeResponse> Range(RangeRequest r, ServerCallContext context)
            {
                if (r.Serializable)
                {
                    Interlocked.Increment(ref etcd._serializable);
                }

                var key = r.Key.ToStringUtf8();
                var end = r.RangeEnd.IsEmpty ? null : r.RangeEnd.ToStringUtf8();
                var matches = etcd._data
                    .Where(kv => end is null ? kv.Key == key : string.CompareOrdinal(kv.Key, key) >= 0 && string.CompareOrdinal(kv.Key, end) < 0)
                    .OrderBy(kv => kv.Key, StringComparer.Ordinal)
                    .Take(r.Limit == 0 ? int.MaxValue : (int)r.Limit)
                    .Select(kv => new KeyValue { Key = ByteString.CopyFromUtf8(kv.Key), Value = ByteString.CopyFrom(kv.Value) });
                var response = new RangeResponse();
                response.Kvs.AddRange(matches);
                response.Count = response.Kvs.Count;
                return Task.FromResult(response);
            }
        }
    }
}
