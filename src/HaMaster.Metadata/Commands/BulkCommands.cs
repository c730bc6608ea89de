using HaMaster.Metadata.Store;
using HaMaster.Protos.V1;
using static HaMaster.Metadata.Commands.NamespaceCommands;
using static HaMaster.Metadata.MetadataStateMachine;

namespace HaMaster.Metadata.Commands;

/// <summary>
/// Bulk creation: many files of one directory in one entry. Each name is created exactly as a
/// CreateFile of <c>directory/name</c> would be (same checks, ids in name order), so a refused name
/// changes nothing and the others still happen; the result lists the refused ones by index.
/// </summary>
internal static class BulkCommands
{
    internal static CommandResult CreateFiles(ApplyTransaction tx, JournalEntry entry, CreateFilesRequest request)
    {
        if (PathValidator.Validate(request.Directory) is { } invalid)
        {
            return Fail(MetadataStatus.InvalidArgument, invalid);
        }

        if (request.Names.Count is 0 or > InputLimits.MaxNamesPerCreateFiles)
        {
            return Fail(MetadataStatus.InvalidArgument, $"names: {request.Names.Count} given, 1 to {InputLimits.MaxNamesPerCreateFiles} allowed");
        }

        var prefix = request.Directory == "/" ? "/" : request.Directory + "/";
        var result = new CreateFilesResult();
        for (var i = 0; i < request.Names.Count; i++)
        {
            var name = request.Names[i];
            var item = name.Length == 0 || name.Contains('/', StringComparison.Ordinal)
                ? Fail(MetadataStatus.InvalidArgument, $"names[{i}]: \"{name}\" is not a single path component")
                : CreateFile(tx, entry, new CreateFileRequest
                {
                    Path = prefix + name,
                    Recursive = request.Recursive,
                    Mode = request.Mode,
                    BlockSizeBytes = request.BlockSizeBytes,
                });
            if (item.Status == MetadataStatus.Ok)
            {
                result.Created++;
            }
            else
            {
                result.Failures.Add(new CreateFilesItemFailure { Index = (uint)i, Status = item.Status, Message = item.Message });
            }
        }

        return new CommandResult { CreateFiles = result };
    }
}
