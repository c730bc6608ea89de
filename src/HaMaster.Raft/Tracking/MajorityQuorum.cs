namespace HaMaster.Raft.Tracking;

/// <summary>Outcome of an election tally.</summary>
internal enum VoteResult : byte { Pending, Won, Lost }

/// <summary>Majority quorum math over a voter set (thesis §3.6, §4): pure functions, no allocation.</summary>
internal static class MajorityQuorum
{
    /// <summary>
    /// The highest index replicated on a majority, given each voter's match index in <paramref name="matches"/>
    /// (reordered in place). An empty voter set commits nothing and returns <see cref="ulong.MaxValue"/> by
    /// convention (etcd's: it never constrains a joint decision); callers never have an empty voter set.
    /// </summary>
    public static ulong CommittedIndex(Span<ulong> matches)
    {
        if (matches.Length == 0) return ulong.MaxValue;
        matches.Sort();
        // With n voters sorted ascending, the value at n - quorum is held by at least quorum voters.
        var quorum = matches.Length / 2 + 1;
        return matches[matches.Length - quorum];
    }

    /// <summary>Tallies <paramref name="granted"/> and <paramref name="rejected"/> votes out of <paramref name="voters"/>.</summary>
    public static VoteResult Tally(int voters, int granted, int rejected)
    {
        if (voters == 0) return VoteResult.Won;
        var quorum = voters / 2 + 1;
        if (granted >= quorum) return VoteResult.Won;
        if (voters - rejected >= quorum) return VoteResult.Pending;
        return VoteResult.Lost;
    }
}
