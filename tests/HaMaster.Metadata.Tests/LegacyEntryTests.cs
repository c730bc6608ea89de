using HaMaster.Chaos.Core.Files;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Tests;

/// <summary>
/// Entries journaled before the admission limits (InputLimits) existed still apply as they did:
/// the limits are checked by the server before proposing, never by the state machine.
/// </summary>
public sealed class LegacyEntryTests
{
    [Fact]
    public void A_block_size_beyond_the_limit_still_applies_and_its_offsets_saturate_instead_of_wrapping()
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("heap"));
        var f = new EntryFactory();
        var created = sm.Apply(f, f.Create("/legacy", blockSize: ulong.MaxValue));
        Assert.Equal(MetadataStatus.Ok, created.Status);
        Assert.Equal(ulong.MaxValue, created.FileInfo.BlockSizeBytes);
        for (var i = 0; i < 3; i++) Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Allocate("/legacy")).Status);

        var offsets = sm.GetFileBlockInfo("/legacy").Value!.Blocks.Select(b => b.Offset).ToArray();
        Assert.Equal([0UL, ulong.MaxValue, ulong.MaxValue], offsets);
    }

    [Fact]
    public void Owner_names_beyond_the_name_rules_still_apply()
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("heap"));
        var f = new EntryFactory();
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Create("/f")).Status);
        var owner = "user with spaces and more than thirty-two characters";
        var result = sm.Apply(f, f.Entry(e => e.SetAttribute = new SetAttributeRequest { Path = "/f", Owner = owner }));
        Assert.Equal(MetadataStatus.Ok, result.Status);
        Assert.Equal(owner, sm.GetStatus("/f").Value!.Owner);
    }

    [Fact]
    public void Ttl_entries_from_before_ttl_actions_apply_as_they_did_and_default_to_delete()
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("rocks"));
        var f = new EntryFactory();
        var negative = sm.Apply(f, f.Entry(e => e.CreateFile = new CreateFileRequest { Path = "/neg", TtlMs = -5 }));
        Assert.Equal((MetadataStatus.InvalidArgument, "ttl_ms must not be negative"), (negative.Status, negative.Message));
        // A ttl beyond today's limit (InputLimits.MaxTtlMs) still applies, and its expiry saturates.
        var huge = sm.Apply(f, f.Entry(e => e.CreateFile = new CreateFileRequest { Path = "/huge", TtlMs = long.MaxValue }));
        Assert.Equal((MetadataStatus.Ok, long.MaxValue, TtlAction.Delete), (huge.Status, huge.FileInfo.TtlMs, huge.FileInfo.TtlAction));
        Assert.Equal([new TtlDue(huge.FileInfo.Id, long.MaxValue)], sm.ListDueTtl(long.MaxValue, 10));
        Assert.Empty(sm.ListDueTtl(long.MaxValue - 1, 10));
    }
}
