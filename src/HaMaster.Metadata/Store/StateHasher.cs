using System.Security.Cryptography;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Store;

/// <summary>
/// The state digest's hash: SHA-256 over the counters, mount table, inodes, blocks with locations and
/// workers, each value framed by a tag and its length, in store order. Independent of the store kind,
/// cache and applied index (see <see cref="MetadataStateMachine.Digest"/>).
/// </summary>
internal static class StateHasher
{
    /// <summary>The digest of a live store; the caller holds the store still (the apply gate).</summary>
    public static string Compute(Metastore store) =>
        Compute(store.State, store.Mounts, store.Inodes.EnumerateInodes(), store.Blocks.EnumerateBlocks(), store.Blocks.ListLocations, store.Blocks.EnumerateWorkers());

    public static string Compute(
        StateRecord state,
        MountTable mounts,
        IEnumerable<InodeRecord> inodes,
        IEnumerable<(ulong Id, BlockRecord Block)> blocks,
        Action<ulong, List<KeyValuePair<ulong, LocationRecord>>> listLocations,
        IEnumerable<WorkerRecord> workers)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var counters = new StateRecord
        {
            NextInodeId = state.NextInodeId,
            NextBlockId = state.NextBlockId,
            NextWorkerId = state.NextWorkerId,
            InodeCount = state.InodeCount,
            BlockCount = state.BlockCount,
            WorkerCount = state.WorkerCount,
        };
        Append(hash, 'S', counters.ToByteArray());

        // Only when there are mounts, so that states without any keep the digest they always had.
        if (!mounts.IsEmpty)
        {
            Append(hash, 'M', mounts.ToRecord().ToByteArray());
        }

        foreach (var inode in inodes)
        {
            Append(hash, 'I', inode.ToByteArray());
        }

        var locations = new List<KeyValuePair<ulong, LocationRecord>>();
        foreach (var (id, block) in blocks)
        {
            Append(hash, 'B', Keys.Id(id));
            Append(hash, 'b', block.ToByteArray());
            locations.Clear();
            listLocations(id, locations);
            foreach (var (workerId, location) in locations)
            {
                Append(hash, 'L', Keys.Id(workerId));
                Append(hash, 'l', location.ToByteArray());
            }
        }

        foreach (var worker in workers)
        {
            Append(hash, 'W', worker.ToByteArray());
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void Append(IncrementalHash hash, char tag, byte[] value)
    {
        Span<byte> header = stackalloc byte[5];
        header[0] = (byte)tag;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header[1..], value.Length);
        hash.AppendData(header);
        hash.AppendData(value);
    }
}
