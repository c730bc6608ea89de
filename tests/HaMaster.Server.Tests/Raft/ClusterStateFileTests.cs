using HaMaster.Protos.V1;
using HaMaster.Raft;
using HaMaster.Server.Raft;

namespace HaMaster.Server.Tests.Raft;

public sealed class ClusterStateFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hamaster-server-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static MemberDirectory Members(int count)
    {
        var d = new MemberDirectory();
        for (var i = 1; i <= count; i++)
        {
            d.Members.Add(new MasterAddress { Id = (ulong)i, ClientAddress = $"m{i}:19200", PeerAddress = $"m{i}:19300", WebAddress = $"m{i}:19400" });
        }

        return d;
    }

    [Fact]
    public void Missing_file_reads_as_null()
    {
        var file = new ClusterStateFile(_dir);
        Assert.False(file.Exists);
        Assert.Null(file.Read());
    }

    [Fact]
    public void Write_then_read_round_trips_configuration_and_directory()
    {
        var config = new ClusterConfig([1, 2, 3], [4]);
        var state = ClusterStateFile.Create(config, Members(4));
        var file = new ClusterStateFile(_dir);
        file.Write(state);

        Assert.True(file.Exists);
        Assert.True(File.Exists(Path.Combine(_dir, "cluster.state")));
        Assert.False(File.Exists(Path.Combine(_dir, "cluster.state.tmp")));
        var back = new ClusterStateFile(_dir).Read();
        Assert.NotNull(back);
        Assert.Equal(state, back);
        Assert.Equal(config, ClusterConfig.FromBytes(back.RaftConfig.Span));
        Assert.Equal([1UL, 2UL, 3UL, 4UL], back.Directory.Members.Select(m => m.Id));
    }

    [Fact]
    public void Rewrite_replaces_the_previous_state_entirely()
    {
        var file = new ClusterStateFile(_dir);
        file.Write(ClusterStateFile.Create(new ClusterConfig([1, 2, 3, 4, 5]), Members(5)));
        var smaller = ClusterStateFile.Create(new ClusterConfig([1]), Members(1));
        file.Write(smaller);
        Assert.Equal(smaller, file.Read());
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Stale_temp_file_from_a_crash_is_ignored_and_overwritten()
    {
        File.WriteAllBytes(Path.Combine(_dir, "cluster.state.tmp"), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        var file = new ClusterStateFile(_dir);
        Assert.Null(file.Read());
        var state = ClusterStateFile.Create(new ClusterConfig([7]), Members(1));
        file.Write(state);
        Assert.Equal(state, file.Read());
    }

    [Fact]
    public void Corrupt_file_is_invalid_data_naming_the_file()
    {
        var path = Path.Combine(_dir, "cluster.state");
        // Field 1 (bytes) declaring 100 bytes of which only 2 follow: a truncated write.
        File.WriteAllBytes(path, [0x0a, 100, 1, 2]);
        var e = Assert.Throws<InvalidDataException>(() => new ClusterStateFile(_dir).Read());
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("corrupt", e.Message, StringComparison.Ordinal);
        Assert.IsType<Google.Protobuf.InvalidProtocolBufferException>(e.InnerException);
    }

    [Fact]
    public void Garbage_file_is_invalid_data()
    {
        var path = Path.Combine(_dir, "cluster.state");
        File.WriteAllBytes(path, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        var e = Assert.Throws<InvalidDataException>(() => new ClusterStateFile(_dir).Read());
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }
}
