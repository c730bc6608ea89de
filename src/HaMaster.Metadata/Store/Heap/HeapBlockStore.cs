using HaMaster.Protos.V1;
using HaMaster.Rocks;

namespace HaMaster.Metadata.Store.Heap;

/// <summary>On-heap blocks, locations and workers (after Alluxio's HeapBlockStore).</summary>
/// <remarks>See <see cref="IBlockStore"/> for the concurrency contract.</remarks>
internal sealed class HeapBlockStore : IBlockStore
{
    private readonly Dictionary<ulong, BlockRecord> _blocks = [];
    private readonly Dictionary<ulong, SortedList<ulong, LocationRecord>> _locations = [];
    private readonly Dictionary<ulong, SortedSet<ulong>> _workerBlocks = [];
    private readonly Dictionary<ulong, WorkerRecord> _workers = [];
    private readonly Dictionary<string, ulong> _addresses = new(StringComparer.Ordinal);

    public BlockRecord? GetBlock(ulong blockId) => _blocks.GetValueOrDefault(blockId);

    public void ListLocations(ulong blockId, List<KeyValuePair<ulong, LocationRecord>> into)
    {
        if (_locations.TryGetValue(blockId, out var locations))
        {
            into.AddRange(locations);
        }
    }

    public void ListWorkerBlocks(ulong workerId, List<ulong> into)
    {
        if (_workerBlocks.TryGetValue(workerId, out var blocks))
        {
            into.AddRange(blocks);
        }
    }

    public WorkerRecord? GetWorker(ulong workerId) => _workers.GetValueOrDefault(workerId);

    public ulong FindWorker(string address) => _addresses.GetValueOrDefault(address);

    public IEnumerable<WorkerRecord> EnumerateWorkers()
    {
        var ids = _workers.Keys.ToArray();
        Array.Sort(ids);
        foreach (var id in ids)
        {
            yield return _workers[id];
        }
    }

    public IEnumerable<(ulong Id, BlockRecord Block)> EnumerateBlocks()
    {
        var ids = _blocks.Keys.ToArray();
        Array.Sort(ids);
        foreach (var id in ids)
        {
            yield return (id, _blocks[id]);
        }
    }

    public void Stage(ApplyTransaction tx, WriteBatch? batch)
    {
    }

    public void Publish(ApplyTransaction tx)
    {
        foreach (var (id, block) in tx.Blocks)
        {
            if (block is null)
            {
                _blocks.Remove(id);
            }
            else
            {
                _blocks[id] = block;
            }
        }

        foreach (var (blockId, changes) in tx.Locations)
        {
            foreach (var (workerId, location) in changes)
            {
                if (location is null)
                {
                    RemoveLocation(blockId, workerId);
                }
                else
                {
                    LoadLocation(blockId, workerId, location);
                }
            }
        }

        foreach (var (id, worker) in tx.Workers)
        {
            if (worker is null)
            {
                _workers.Remove(id);
            }
            else
            {
                _workers[id] = worker;
            }
        }

        foreach (var (address, id) in tx.WorkerAddresses)
        {
            _addresses[address] = id;
        }
    }

    public void LoadBlock(ulong id, BlockRecord block) => _blocks[id] = block;

    public void LoadWorker(WorkerRecord worker)
    {
        _workers[worker.Id] = worker;
        _addresses[worker.Address] = worker.Id;
    }

    public void LoadLocation(ulong blockId, ulong workerId, LocationRecord location)
    {
        if (!_locations.TryGetValue(blockId, out var locations))
        {
            locations = [];
            _locations.Add(blockId, locations);
        }

        locations[workerId] = location;
        if (!_workerBlocks.TryGetValue(workerId, out var blocks))
        {
            blocks = [];
            _workerBlocks.Add(workerId, blocks);
        }

        blocks.Add(blockId);
    }

    private void RemoveLocation(ulong blockId, ulong workerId)
    {
        if (_locations.TryGetValue(blockId, out var locations) && locations.Remove(workerId) && locations.Count == 0)
        {
            _locations.Remove(blockId);
        }

        if (_workerBlocks.TryGetValue(workerId, out var blocks) && blocks.Remove(blockId) && blocks.Count == 0)
        {
            _workerBlocks.Remove(workerId);
        }
    }
}
