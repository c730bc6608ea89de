using HaMaster.Metadata.Store;
using HaMaster.Protos.V1;
using static HaMaster.Metadata.Commands.NamespaceCommands;
using static HaMaster.Metadata.MetadataStateMachine;

namespace HaMaster.Metadata.Commands;

internal static class BlockCommands
{
    internal static CommandResult AllocateBlock(ApplyTransaction tx, JournalEntry entry, GetNewBlockIdForFileRequest request)
    {
        if (!TryResolveFile(tx, entry, request.Path, out var file, out var failure))
        {
            return failure;
        }

        var blockId = tx.State.NextBlockId++;
        tx.PutBlock(blockId, new BlockRecord { FileId = file.Id });
        tx.State.BlockCount++;
        var updated = tx.GetInodeForUpdate(file.Id);
        updated.BlockIds.Add(blockId);
        updated.ModificationTimeMs = entry.TimeMs;
        return new CommandResult { Status = MetadataStatus.Ok, BlockId = blockId };
    }

    internal static CommandResult CommitBlock(ApplyTransaction tx, CommitBlockRequest request)
    {
        if (tx.GetWorker(request.WorkerId) is not { State: WorkerState.Live })
        {
            return Fail(MetadataStatus.NotFound, $"worker {request.WorkerId} is not registered");
        }

        if (tx.GetBlock(request.BlockId) is not { } block)
        {
            return Fail(MetadataStatus.NotFound, $"block {request.BlockId} does not exist");
        }

        var updatedBlock = block.Clone();
        updatedBlock.Length = request.Length;
        updatedBlock.Committed = true;
        tx.PutBlock(request.BlockId, updatedBlock);
        var worker = tx.GetWorkerForUpdate(request.WorkerId);
        if (tx.GetLocation(request.BlockId, request.WorkerId) is null)
        {
            worker.BlockCount++;
        }

        tx.PutLocation(request.BlockId, request.WorkerId, new LocationRecord { Tier = request.Tier, Medium = request.Medium });
        foreach (var tier in worker.Tiers)
        {
            if (tier.Tier == request.Tier)
            {
                tier.UsedBytes = request.UsedBytesOnTier;
            }
        }

        return new CommandResult { Status = MetadataStatus.Ok };
    }

    internal static CommandResult RemoveBlockLocations(ApplyTransaction tx, RemoveBlockLocationsCommand command)
    {
        if (tx.GetWorker(command.WorkerId) is null)
        {
            return Fail(MetadataStatus.NotFound, $"worker {command.WorkerId} is not registered");
        }

        ulong removed = 0;
        foreach (var blockId in command.BlockIds)
        {
            if (tx.GetLocation(blockId, command.WorkerId) is not null)
            {
                tx.DeleteLocation(blockId, command.WorkerId);
                removed++;
            }
        }

        if (removed > 0)
        {
            tx.GetWorkerForUpdate(command.WorkerId).BlockCount -= removed;
        }

        return new CommandResult { Status = MetadataStatus.Ok, RemovedCount = removed };
    }

    internal static CommandResult RegisterWorker(ApplyTransaction tx, JournalEntry entry, RegisterWorkerRequest request)
    {
        if (request.Address.Length == 0)
        {
            return Fail(MetadataStatus.InvalidArgument, "worker address must not be empty");
        }

        var id = tx.FindWorker(request.Address);
        if (id == 0)
        {
            id = tx.State.NextWorkerId++;
            tx.State.WorkerCount++;
            tx.PutWorkerAddress(request.Address, id);
        }
        else
        {
            foreach (var blockId in tx.ListWorkerBlocks(id))
            {
                tx.DeleteLocation(blockId, id);
            }
        }

        var worker = new WorkerRecord
        {
            Id = id,
            Address = request.Address,
            State = WorkerState.Live,
            RegisteredAtMs = entry.TimeMs,
        };
        foreach (var tier in request.Tiers)
        {
            worker.Tiers.Add(tier.Clone());
        }

        var location = new LocationRecord { Tier = request.TierOfReportedBlocks };
        var reported = new HashSet<ulong>();
        foreach (var blockId in request.BlockIds)
        {
            if (reported.Add(blockId) && tx.GetBlock(blockId) is not null)
            {
                tx.PutLocation(blockId, id, location);
                worker.BlockCount++;
            }
        }

        tx.PutWorker(worker);
        return new CommandResult { Status = MetadataStatus.Ok, WorkerId = id };
    }

    internal static CommandResult MarkWorkerLost(ApplyTransaction tx, MarkWorkerLostCommand command)
    {
        if (tx.GetWorker(command.WorkerId) is null)
        {
            return Fail(MetadataStatus.NotFound, $"worker {command.WorkerId} is not registered");
        }

        foreach (var blockId in tx.ListWorkerBlocks(command.WorkerId))
        {
            tx.DeleteLocation(blockId, command.WorkerId);
        }

        var worker = tx.GetWorkerForUpdate(command.WorkerId);
        worker.State = WorkerState.Lost;
        worker.BlockCount = 0;
        return new CommandResult { Status = MetadataStatus.Ok, WorkerId = command.WorkerId };
    }

    /// <summary>Removes a block and its locations (its file is being deleted).</summary>
    internal static void RemoveBlock(ApplyTransaction tx, ulong blockId)
    {
        if (tx.GetBlock(blockId) is null)
        {
            return;
        }

        foreach (var workerId in tx.ListLocationWorkers(blockId))
        {
            tx.DeleteLocation(blockId, workerId);
            tx.GetWorkerForUpdate(workerId).BlockCount--;
        }

        tx.DeleteBlock(blockId);
        tx.State.BlockCount--;
    }
}
