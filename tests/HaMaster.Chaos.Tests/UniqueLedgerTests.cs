using HaMaster.Chaos.Core.History;
using HaMaster.Chaos.Core.Models;
using HaMaster.Chaos.Workload;

namespace HaMaster.Chaos.Tests;

/// <summary>The exactly-once ledger catches double applies, lost creates, undone deletes and phantoms.</summary>
public sealed class UniqueLedgerTests
{
    private static readonly CallResult Ok = CallResult.Answered(FsOutput.Ok);
    private static readonly CallResult Unknown = new(OpOutcome.Unknown, null, "timeout");

    [Fact]
    public void A_create_of_a_fresh_name_answered_already_exists_is_a_double_apply()
    {
        var ledger = new UniqueLedger();
        ledger.Created("/u/lib0-0", CallResult.Answered(FsOutput.Of(FsStatus.AlreadyExists)));
        Assert.Contains(ledger.Violations, v => v.Contains("applied twice", StringComparison.Ordinal));
    }

    [Fact]
    public void A_delete_of_an_acknowledged_file_answered_not_found_is_a_double_apply()
    {
        var ledger = new UniqueLedger();
        ledger.Created("/u/lib0-0", Ok);
        ledger.DeleteAttempted("/u/lib0-0");
        ledger.Deleted("/u/lib0-0", CallResult.Answered(FsOutput.Of(FsStatus.NotFound)));
        Assert.Single(ledger.Violations);
    }

    [Fact]
    public void The_final_listing_must_hold_acknowledged_creates_and_nothing_else()
    {
        var ledger = new UniqueLedger();
        ledger.Created("/u/kept", Ok);
        ledger.Created("/u/lost", Ok);
        ledger.Created("/u/maybe", Unknown);
        ledger.Created("/u/gone", Ok);
        ledger.DeleteAttempted("/u/gone");
        ledger.Deleted("/u/gone", Ok);
        ledger.Created("/u/half", Ok);
        ledger.DeleteAttempted("/u/half");
        ledger.Deleted("/u/half", Unknown);
        Assert.Empty(ledger.Violations);

        var found = ledger.CheckFinal(["kept", "gone", "phantom", "half"]);
        Assert.Equal(3, found.Count);
        Assert.Contains(found, v => v.Contains("/u/lost", StringComparison.Ordinal) && v.Contains("missing", StringComparison.Ordinal));
        Assert.Contains(found, v => v.Contains("/u/gone", StringComparison.Ordinal) && v.Contains("undone", StringComparison.Ordinal));
        Assert.Contains(found, v => v.Contains("/u/phantom", StringComparison.Ordinal));
        Assert.Empty(ledger.CheckFinal(["kept", "lost", "maybe"]));
    }
}
