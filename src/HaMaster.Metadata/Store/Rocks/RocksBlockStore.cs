using HaMaster.Protos.V1;
using HaMaster.Rocks;

namespace HaMaster.Metadata.Store.Rocks;

/// <summary>Blocks ("blocks": id BE -> BlockRecord), locations ("locations": block BE + worker BE ->
/// LocationRecord, with the reverse "worker_blocks": worker BE + block BE -> empty) and workers
/// ("workers": id BE -> WorkerRecord, "worker_addresses": address -> id BE).</summary>
/// <remarks>See <see cref="IBlockStore"/> for the concurrency contract.</remarks>
internal sealed class RocksBlockStore(RocksDb db, RocksColumns columns) : IBlockStore
{
    public BlockRecord? GetBlock(ulong blockId)
    {
        Span<byte> key = stackalloc byte[8];
        Keys.WriteId(key, blockId);
        var value = db.Get(key, columns.Blocks);
        return value is null ? null : BlockRecord.Parser.ParseFrom(value);
    }

    public void ListLocations(ulong blockId, List<KeyValuePair<ulong, LocationRecord>> into)
    {
        var lower = Keys.Id(blockId);
        using var it = db.NewIterator(columns.Locations, lowerBound: lower, upperBound: blockId == ulong.MaxValue ? null : Keys.Id(blockId + 1));
        for (it.Seek(lower); it.Valid; it.Next())
        {
            into.Add(new(Keys.ReadId(it.Key[8..]), LocationRecord.Parser.ParseFrom(it.Value.ToArray())));
        }

        it.ThrowIfError();
    }

    public void ListWorkerBlocks(ulong workerId, List<ulong> into)
    {
        var lower = Keys.Id(workerId);
        using var it = db.NewIterator(columns.WorkerBlocks, lowerBound: lower, upperBound: workerId == ulong.MaxValue ? null : Keys.Id(workerId + 1));
        for (it.Seek(lower); it.Valid; it.Next())
        {
            into.Add(Keys.ReadId(it.Key[8..]));
        }

        it.ThrowIfError();
    }

    public WorkerRecord? GetWorker(ulong workerId)
    {
        Span<byte> key = stackalloc byte[8];
        Keys.WriteId(key, workerId);
        var value = db.Get(key, columns.Workers);
        return value is null ? null : WorkerRecord.Parser.ParseFrom(value);
    }

    public ulong FindWorker(string address)
    {
        var value = db.Get(Keys.Utf8(address), columns.WorkerAddresses);
        return value is null ? 0 : Keys.ReadId(value);
    }

    public IEnumerable<WorkerRecord> EnumerateWorkers()
    {
        using var it = db.NewIterator(columns.Workers);
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            yield return WorkerRecord.Parser.ParseFrom(it.Value.ToArray());
        }

        it.ThrowIfError();
    }

    public IEnumerable<(ulong Id, BlockRecord Block)> EnumerateBlocks()
    {
        using var it = db.NewIterator(columns.Blocks);
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            yield return (Keys.ReadId(it.Key), BlockRecord.Parser.ParseFrom(it.Value.ToArray()));
        }

        it.ThrowIfError();
    }

    public void Stage(ApplyTransaction tx, WriteBatch? batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        foreach (var (id, block) in tx.Blocks)
        {
            if (block is null)
            {
                batch.Delete(Keys.Id(id), columns.Blocks);
            }
            else
            {
                batch.Put(Keys.Id(id), block.ToByteArray(), columns.Blocks);
            }
        }

        foreach (var (blockId, changes) in tx.Locations)
        {
            foreach (var (workerId, location) in changes)
            {
                if (location is null)
                {
                    batch.Delete(Keys.Pair(blockId, workerId), columns.Locations);
                    batch.Delete(Keys.Pair(workerId, blockId), columns.WorkerBlocks);
                }
                else
                {
                    batch.Put(Keys.Pair(blockId, workerId), location.ToByteArray(), columns.Locations);
                    batch.Put(Keys.Pair(workerId, blockId), [], columns.WorkerBlocks);
                }
            }
        }

        foreach (var (id, worker) in tx.Workers)
        {
            if (worker is null)
            {
                batch.Delete(Keys.Id(id), columns.Workers);
            }
            else
            {
                batch.Put(Keys.Id(id), worker.ToByteArray(), columns.Workers);
            }
        }

        foreach (var (address, id) in tx.WorkerAddresses)
        {
            batch.Put(Keys.Utf8(address), Keys.Id(id), columns.WorkerAddresses);
        }
    }

    public void Publish(ApplyTransaction tx)
    {
    }
}
