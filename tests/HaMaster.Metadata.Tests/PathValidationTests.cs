using HaMaster.Chaos.Core.Files;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Tests;

public sealed class PathValidationTests
{
    public static TheoryData<string, PathProblem, string> InvalidPaths() => new()
    {
        { "", PathProblem.Empty, "path is empty" },
        { "a/b", PathProblem.NotAbsolute, "a/b: path must be absolute (start with '/')" },
        { "/a/", PathProblem.TrailingSlash, "/a/: path must not end with '/'" },
        { "/a//b", PathProblem.EmptyComponent, "/a//b: path contains an empty component ('//')" },
        { "//", PathProblem.EmptyComponent, "//: path contains an empty component ('//')" },
        { "/a/./b", PathProblem.DotComponent, "/a/./b: path contains a '.' or '..' component" },
        { "/a/..", PathProblem.DotComponent, "/a/..: path contains a '.' or '..' component" },
        { "/a\0b", PathProblem.NulCharacter, "path contains a NUL character" },
        { "/a\uD800b", PathProblem.InvalidUtf8, "path is not valid UTF-8 (unpaired surrogate)" },
        { "/a\uDC00", PathProblem.InvalidUtf8, "path is not valid UTF-8 (unpaired surrogate)" },
        { "/" + new string('x', 256), PathProblem.ComponentTooLong, "/" + new string('x', 256) + ": a component exceeds 255 bytes" },
        // 128 two-byte characters = 256 bytes: too long in UTF-8 although only 128 chars.
        { "/" + new string('é', 128), PathProblem.ComponentTooLong, "/" + new string('é', 128) + ": a component exceeds 255 bytes" },
        { string.Concat(Enumerable.Repeat("/d", 257)), PathProblem.TooDeep, "path exceeds the maximum depth of 256 components" },
        { string.Concat(Enumerable.Repeat("/" + new string('n', 200), 21)), PathProblem.TooLong, "path exceeds 4096 bytes" },
    };

    [Theory]
    [MemberData(nameof(InvalidPaths), DisableDiscoveryEnumeration = true)]
    public void EveryInvalidClassHasItsExactMessage(string path, PathProblem problem, string message)
    {
        Assert.Equal(problem, PathValidator.Check(path));
        Assert.Equal(message, PathValidator.Validate(path));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/a")]
    [InlineData("/a/b c/d.e/..x/.y")]
    [InlineData("/日本/😀")]
    public void ValidPathsPass(string path)
    {
        Assert.Equal(PathProblem.None, PathValidator.Check(path));
        Assert.Null(PathValidator.Validate(path));
    }

    [Fact]
    public void LimitsAreInclusive()
    {
        Assert.Null(PathValidator.Validate("/" + new string('x', 255)));
        Assert.Null(PathValidator.Validate("/" + new string('é', 127) + "x"));
        Assert.Null(PathValidator.Validate(string.Concat(Enumerable.Repeat("/d", 256))));
        var exactly4096 = string.Concat(Enumerable.Repeat("/" + new string('n', 255), 16));
        Assert.Equal(4096, exactly4096.Length);
        Assert.Null(PathValidator.Validate(exactly4096));
        Assert.Equal(PathProblem.TooLong, PathValidator.Check(exactly4096 + "/a"));
    }

    [Theory]
    [MemberData(nameof(InvalidPaths), DisableDiscoveryEnumeration = true)]
    public void CommandsAndReadsRejectInvalidPathsWithTheValidatorMessage(string path, PathProblem problem, string message)
    {
        _ = problem;
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, new MetastoreOptions { Kind = MetastoreKind.Heap });
        var f = new EntryFactory();
        foreach (var entry in new[] { f.Mkdir(path), f.Create(path), f.Delete(path), f.Rename(path, "/x"), f.Rename("/", path), f.Allocate(path), f.Complete(path, 0) })
        {
            var result = sm.Apply(f, entry);
            Assert.Equal(MetadataStatus.InvalidArgument, result.Status);
            Assert.Equal(message, result.Message);
        }

        Assert.Equal((MetadataStatus.InvalidArgument, message), (sm.GetStatus(path).Status, sm.GetStatus(path).Message));
        Assert.Equal((MetadataStatus.InvalidArgument, message), (sm.ListStatus(path).Status, sm.ListStatus(path).Message));
        Assert.Equal(1UL, sm.Counts.Inodes);
    }
}
