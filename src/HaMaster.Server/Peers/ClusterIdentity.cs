using System.Security.Cryptography;
using System.Text;
using HaMaster.Journal;
using HaMaster.Server.Configuration;

namespace HaMaster.Server.Peers;

/// <summary>
/// The id of the cluster this master belongs to, sent on every RaftPeer call (header
/// <see cref="Header"/>) and checked on every one received (<see cref="ClusterIdInterceptor"/>),
/// so masters of two clusters that share a secret (copied deploy files) never exchange a Raft
/// message. Fixed once per data directory and kept in <c>cluster.id</c> next to the hard state:
/// <list type="bullet">
/// <item>an id already stored wins (a different <c>--cluster-id</c> stops the start);</item>
/// <item>else <c>--cluster-id</c> (ClusterId) is stored;</item>
/// <item>else a bootstrapping master (<c>--members</c>) derives it from the initial membership
///   (every master of one bootstrap derives the same id without talking; a data directory from a
///   version without ids adopts the same id the same way on its first start);</item>
/// <item>else (<c>--join</c>) the master has none yet and adopts the id on the first Raft call
///   it receives (<see cref="TryAdopt"/>), as it accepts any authenticated sender until it knows
///   its configuration.</item>
/// </list>
/// Thread-safe: <see cref="Id"/> is read on every peer call; adoption happens once, under a lock.
/// </summary>
internal sealed class ClusterIdentity
{
    public const string Header = "hamaster-cluster-id";
    public const int MaxLength = 64;
    private const string FileName = "cluster.id";

    private readonly string? _path;
    private readonly Lock _gate = new();
    private volatile string? _id;

    private ClusterIdentity(string? path, string? id, string source)
    {
        _path = path;
        _id = id;
        Source = source;
    }

    /// <summary>The cluster's id; null until a joining master adopted one.</summary>
    public string? Id => _id;

    /// <summary>Where the id came from (stored, configured, derived, none yet, adopted), for the start-up log.</summary>
    public string Source { get; private set; }

    /// <summary>An id that is fixed in memory only (tests, tools): nothing is stored.</summary>
    public static ClusterIdentity Fixed(string? id) => new(null, id, "fixed");

    /// <summary>
    /// Resolves the id of the master whose data directory is <paramref name="dataDirectory"/>
    /// (see the type's rules) and stores it when new. Throws <see cref="ArgumentException"/> when
    /// <paramref name="configured"/> contradicts the stored id, <see cref="InvalidDataException"/>
    /// when the stored file is not an id.
    /// </summary>
    public static ClusterIdentity Open(string dataDirectory, string? configured, bool join, IReadOnlyList<MasterEndpoint> initialMembers)
    {
        var path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path))
        {
            var stored = File.ReadAllText(path).Trim();
            if (Problem(stored) is { } bad) throw new InvalidDataException($"{path} does not hold a cluster id ({bad}); write the cluster's id into it (see /api/status of another master) or remove it");
            if (configured is not null && configured != stored)
            {
                throw new ArgumentException($"ClusterId (--cluster-id) '{configured}' differs from the id '{stored}' this data directory belongs to ({path}); a master cannot change clusters");
            }

            return new ClusterIdentity(path, stored, "stored in " + path);
        }

        if (configured is not null)
        {
            Store(path, configured);
            return new ClusterIdentity(path, configured, "configured (--cluster-id)");
        }

        if (!join)
        {
            var derived = Derive(initialMembers);
            Store(path, derived);
            return new ClusterIdentity(path, derived, "derived from the initial members (--members)");
        }

        return new ClusterIdentity(path, null, "none yet: adopted from the first Raft call of the cluster this master joins");
    }

    /// <summary>
    /// The id every master of one bootstrap derives alike: a hash of the initial members' ids and
    /// peer addresses, order-independent. Two clusters bootstrapped from identical member lists get
    /// the same id; give such clusters their own with <c>--cluster-id</c>.
    /// </summary>
    public static string Derive(IEnumerable<MasterEndpoint> members)
    {
        var text = new StringBuilder("hamaster-cluster-v1\n");
        foreach (var m in members.OrderBy(m => m.Id))
        {
            text.Append(m.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('=').Append(m.PeerAddress).Append('\n');
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
        return Convert.ToHexStringLower(hash.AsSpan(0, 8));
    }

    /// <summary>
    /// A joining master without an id takes <paramref name="id"/> (the sender's) and stores it
    /// before the call's messages are looked at. True when this master's id is now
    /// <paramref name="id"/> (adopted now or already), false when it has another one.
    /// </summary>
    public bool TryAdopt(string id)
    {
        if (_id is { } known) return known == id;
        lock (_gate)
        {
            if (_id is { } raced) return raced == id;
            if (_path is not null) Store(_path, id);
            Source = "adopted from the cluster it joined";
            _id = id;
            return true;
        }
    }

    /// <summary>Null when <paramref name="id"/> is a well-formed cluster id (1-64 of A-Z a-z 0-9 . _ -), else what is wrong.</summary>
    public static string? Problem(string? id)
    {
        if (string.IsNullOrEmpty(id)) return "it is empty";
        if (id.Length > MaxLength) return $"it is longer than {MaxLength} characters";
        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')) return "only letters, digits, '.', '_' and '-' are allowed";
        }

        return null;
    }

    private static void Store(string path, string id) => DurableFile.WriteAtomically(path, Encoding.UTF8.GetBytes(id + "\n"));
}
