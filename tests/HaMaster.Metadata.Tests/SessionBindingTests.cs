using HaMaster.Chaos.Core.Files;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Tests;

/// <summary>
/// Issue 17: a client session belongs to the caller that opened it. Decided at apply time from
/// the entry alone (caller + bind_session_to_caller), so every replica and every replay agrees;
/// entries from before the change (no flag) behave exactly as they did.
/// </summary>
public sealed class SessionBindingTests
{
    public static TheoryData<string> Kinds => StoreKinds.All;

    private static ClientSession Session(ulong sequence, string client = "shared") => new() { ClientId = client, Sequence = sequence };

    private static JournalEntry As(EntryFactory f, string user, JournalEntry entry, bool bind = true)
    {
        entry.Caller = new Caller { User = user, Groups = { user } };
        entry.BindSessionToCaller = bind;
        return entry;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Another_caller_reusing_a_session_gets_neither_the_stored_answer_nor_an_applied_write(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        var f = new EntryFactory();
        var aliceFirst = As(f, "alice", f.Entry(e => e.CreateDirectory = new() { Path = "/alice-1" }, Session(1)));
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, aliceFirst).Status);

        // Bob replays alice's sequence 1 (would get her stored answer) and tries a new sequence 2.
        var bobReplay = As(f, "bob", f.Entry(e => e.CreateDirectory = new() { Path = "/bob-1" }, Session(1)));
        var replayed = sm.Apply(f, bobReplay);
        Assert.Equal(MetadataStatus.PermissionDenied, replayed.Status);
        Assert.Equal("session shared belongs to another caller", replayed.Message);
        var bobNew = As(f, "bob", f.Entry(e => e.CreateDirectory = new() { Path = "/bob-2" }, Session(2)));
        Assert.Equal(MetadataStatus.PermissionDenied, sm.Apply(f, bobNew).Status);
        Assert.Equal(MetadataStatus.NotFound, sm.GetStatus("/bob-1").Status);
        Assert.Equal(MetadataStatus.NotFound, sm.GetStatus("/bob-2").Status);

        // Alice's session is untouched: her retry of 1 gets her answer, her sequence 2 applies.
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, aliceFirst.Clone()).Status);
        var aliceSecond = As(f, "alice", f.Entry(e => e.CreateDirectory = new() { Path = "/alice-2" }, Session(2)));
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, aliceSecond).Status);
        Assert.Equal(MetadataStatus.Ok, sm.GetStatus("/alice-2").Status);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Entries_without_the_flag_neither_check_nor_bind_and_the_first_binding_entry_binds(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        var f = new EntryFactory();

        // An old log: two users share a client id, as an old master applied it.
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, As(f, "alice", f.Entry(e => e.CreateDirectory = new() { Path = "/old-1" }, Session(1)), bind: false)).Status);
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, As(f, "bob", f.Entry(e => e.CreateDirectory = new() { Path = "/old-2" }, Session(2)), bind: false)).Status);

        // The session is unbound: the first binding entry (carol's) takes it; then bob is refused.
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, As(f, "carol", f.Entry(e => e.CreateDirectory = new() { Path = "/new-3" }, Session(3)))).Status);
        Assert.Equal(MetadataStatus.PermissionDenied, sm.Apply(f, As(f, "bob", f.Entry(e => e.CreateDirectory = new() { Path = "/new-4" }, Session(4)))).Status);
        Assert.Equal(MetadataStatus.NotFound, sm.GetStatus("/new-4").Status);

        // A legacy entry (no flag) still applies as before, even from another user.
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, As(f, "bob", f.Entry(e => e.CreateDirectory = new() { Path = "/old-5" }, Session(5)), bind: false)).Status);
    }

    [Fact]
    public void The_binding_survives_a_reopen()
    {
        using var dir = new TempDirectory();
        var f = new EntryFactory();
        using (var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("rocks")))
        {
            Assert.Equal(MetadataStatus.Ok, sm.Apply(f, As(f, "alice", f.Entry(e => e.CreateDirectory = new() { Path = "/a" }, Session(1)))).Status);
        }

        using var reopened = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("rocks"));
        Assert.Equal(MetadataStatus.PermissionDenied, reopened.Apply(f, As(f, "bob", f.Entry(e => e.CreateDirectory = new() { Path = "/b" }, Session(2)))).Status);
    }
}
