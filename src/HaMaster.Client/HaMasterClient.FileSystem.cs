using System.Runtime.CompilerServices;
using HaMaster.Protos.V1;
using FileInfo = HaMaster.Protos.V1.FileInfo;

namespace HaMaster.Client;

// FileSystemMaster: the namespace. Writes carry an exactly-once session (the request's
// `session` field is overwritten by the client); reads take a Consistency.
public sealed partial class HaMasterClient
{
    private const string FileSystemService = "/hamaster.v1.FileSystemMaster/";

    /// <summary>Creates a directory (with its missing ancestors when <paramref name="recursive"/>, where an existing directory is no error).</summary>
    public async ValueTask<FileInfo> CreateDirectoryAsync(string path, bool recursive = false, uint mode = 0, CancellationToken cancellationToken = default) =>
        (await CreateDirectoryAsync(new CreateDirectoryRequest { Path = path, Recursive = recursive, Mode = mode }, cancellationToken).ConfigureAwait(false)).Info;

    public ValueTask<CreateDirectoryResponse> CreateDirectoryAsync(CreateDirectoryRequest request, CancellationToken cancellationToken = default) =>
        InvokeWriteAsync(FileSystemService + "CreateDirectory", request, static (r, s) => r.Session = s, static (m, r, o) => m.FileSystem.CreateDirectoryAsync(r, o), cancellationToken);

    /// <summary>Creates an empty, incomplete file.</summary>
    public async ValueTask<FileInfo> CreateFileAsync(string path, bool recursive = false, uint mode = 0, CancellationToken cancellationToken = default) =>
        (await CreateFileAsync(new CreateFileRequest { Path = path, Recursive = recursive, Mode = mode }, cancellationToken).ConfigureAwait(false)).Info;

    public ValueTask<CreateFileResponse> CreateFileAsync(CreateFileRequest request, CancellationToken cancellationToken = default) =>
        InvokeWriteAsync(FileSystemService + "CreateFile", request, static (r, s) => r.Session = s, static (m, r, o) => m.FileSystem.CreateFileAsync(r, o), cancellationToken);

    /// <summary>
    /// Creates up to 1,000 files of one directory in one journal entry (bulk loading). Each name
    /// succeeds or fails on its own; the response lists the refused ones. Exactly once like every write.
    /// </summary>
    public ValueTask<CreateFilesResponse> CreateFilesAsync(string directory, IEnumerable<string> names, bool recursive = false, CancellationToken cancellationToken = default) =>
        CreateFilesAsync(new CreateFilesRequest { Directory = directory, Names = { names }, Recursive = recursive }, cancellationToken);

    public ValueTask<CreateFilesResponse> CreateFilesAsync(CreateFilesRequest request, CancellationToken cancellationToken = default) =>
        InvokeWriteAsync(FileSystemService + "CreateFiles", request, static (r, s) => r.Session = s, static (m, r, o) => m.FileSystem.CreateFilesAsync(r, o), cancellationToken);

    /// <summary>Marks a file complete with its final length.</summary>
    public async ValueTask<FileInfo> CompleteFileAsync(string path, ulong length, CancellationToken cancellationToken = default) =>
        (await CompleteFileAsync(new CompleteFileRequest { Path = path, Length = length }, cancellationToken).ConfigureAwait(false)).Info;

    public ValueTask<CompleteFileResponse> CompleteFileAsync(CompleteFileRequest request, CancellationToken cancellationToken = default) =>
        InvokeWriteAsync(FileSystemService + "CompleteFile", request, static (r, s) => r.Session = s, static (m, r, o) => m.FileSystem.CompleteFileAsync(r, o), cancellationToken);

    /// <summary>Reports that a completed file under a mount was written to its store; the master reads the
    /// store entry back and records the file as persisted with the store's fingerprint.</summary>
    public async ValueTask<FileInfo> PersistFileAsync(string path, CancellationToken cancellationToken = default) =>
        (await PersistFileAsync(new PersistFileRequest { Path = path }, cancellationToken).ConfigureAwait(false)).Info;

    public ValueTask<PersistFileResponse> PersistFileAsync(PersistFileRequest request, CancellationToken cancellationToken = default) =>
        InvokeWriteAsync(FileSystemService + "PersistFile", request, static (r, s) => r.Session = s, static (m, r, o) => m.FileSystem.PersistFileAsync(r, o), cancellationToken);

    /// <summary>The status of one file or directory; throws <see cref="HaMasterNotFoundException"/> when absent.</summary>
    public async ValueTask<FileInfo> GetStatusAsync(string path, Consistency consistency = Consistency.Linearizable, CancellationToken cancellationToken = default) =>
        (await GetStatusAsync(new GetStatusRequest { Path = path, Consistency = consistency }, cancellationToken).ConfigureAwait(false)).Info;

    public ValueTask<GetStatusResponse> GetStatusAsync(GetStatusRequest request, CancellationToken cancellationToken = default) =>
        InvokeAsync(FileSystemService + "GetStatus", request, static (m, r, o) => m.FileSystem.GetStatusAsync(r, o), CallKind.Read, cancellationToken);

    /// <summary>One page of a directory's children (sorted by name); pass the previous page's <c>NextPageToken</c> to continue.</summary>
    public ValueTask<ListStatusResponse> ListStatusAsync(string path, string? pageToken = null, uint limit = 0, Consistency consistency = Consistency.Linearizable, CancellationToken cancellationToken = default) =>
        ListStatusAsync(new ListStatusRequest { Path = path, PageToken = pageToken ?? string.Empty, Limit = limit, Consistency = consistency }, cancellationToken);

    public ValueTask<ListStatusResponse> ListStatusAsync(ListStatusRequest request, CancellationToken cancellationToken = default) =>
        InvokeAsync(FileSystemService + "ListStatus", request, static (m, r, o) => m.FileSystem.ListStatusAsync(r, o), CallKind.Read, cancellationToken);

    /// <summary>
    /// Every child of a directory, fetching pages of <paramref name="pageSize"/> (0 = the master's
    /// default) as the caller enumerates. Each page is consistent on its own; the listing as a
    /// whole is not a snapshot (entries created or removed meanwhile may or may not appear).
    /// </summary>
    public IAsyncEnumerable<FileInfo> ListAllAsync(string path, uint pageSize = 0, Consistency consistency = Consistency.Linearizable, CancellationToken cancellationToken = default) =>
        ListAllAsync(path, pageSize, consistency, LoadMetadataType.Once, cancellationToken);

    /// <summary>As above, with how a directory under a mount is loaded from its store (the first page loads it).</summary>
    public async IAsyncEnumerable<FileInfo> ListAllAsync(string path, uint pageSize, Consistency consistency, LoadMetadataType loadMetadata, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var token = string.Empty;
        // A page token that repeats would loop forever; the bound is generous (2^32 entries at page size 1).
        for (long page = 0; page < uint.MaxValue; page++)
        {
            var response = await ListStatusAsync(new ListStatusRequest { Path = path, PageToken = token, Limit = pageSize, Consistency = consistency, LoadMetadata = loadMetadata }, cancellationToken).ConfigureAwait(false);
            foreach (var entry in response.Entries)
            {
                yield return entry;
            }

            if (string.IsNullOrEmpty(response.NextPageToken))
            {
                yield break;
            }

            if (response.NextPageToken == token)
            {
                throw new HaMasterException(global::Grpc.Core.StatusCode.Internal, $"ListStatus of {path} returned the same page token twice", CachedLeader);
            }

            token = response.NextPageToken;
        }
    }

    /// <summary>Deletes a file or directory (a non-empty directory only with <paramref name="recursive"/>); returns the number of inodes removed.</summary>
    public async ValueTask<ulong> DeleteAsync(string path, bool recursive = false, CancellationToken cancellationToken = default) =>
        (await DeleteAsync(new DeleteRequest { Path = path, Recursive = recursive }, cancellationToken).ConfigureAwait(false)).DeletedCount;

    public ValueTask<DeleteResponse> DeleteAsync(DeleteRequest request, CancellationToken cancellationToken = default) =>
        InvokeWriteAsync(FileSystemService + "Delete", request, static (r, s) => r.Session = s, static (m, r, o) => m.FileSystem.DeleteAsync(r, o), cancellationToken);

    /// <summary>Moves <paramref name="sourcePath"/> to <paramref name="destinationPath"/>; returns the moved inode's new status.</summary>
    public async ValueTask<FileInfo> RenameAsync(string sourcePath, string destinationPath, CancellationToken cancellationToken = default) =>
        (await RenameAsync(new RenameRequest { SrcPath = sourcePath, DstPath = destinationPath }, cancellationToken).ConfigureAwait(false)).Info;

    public ValueTask<RenameResponse> RenameAsync(RenameRequest request, CancellationToken cancellationToken = default) =>
        InvokeWriteAsync(FileSystemService + "Rename", request, static (r, s) => r.Session = s, static (m, r, o) => m.FileSystem.RenameAsync(r, o), cancellationToken);

    /// <summary>Changes owner/group/mode/pinned/ttl (only the fields set in <paramref name="request"/>).</summary>
    public ValueTask<SetAttributeResponse> SetAttributeAsync(SetAttributeRequest request, CancellationToken cancellationToken = default) =>
        InvokeWriteAsync(FileSystemService + "SetAttribute", request, static (r, s) => r.Session = s, static (m, r, o) => m.FileSystem.SetAttributeAsync(r, o), cancellationToken);

    /// <summary>Allocates the next block id of a file.</summary>
    public async ValueTask<ulong> GetNewBlockIdForFileAsync(string path, CancellationToken cancellationToken = default) =>
        (await InvokeWriteAsync(FileSystemService + "GetNewBlockIdForFile", new GetNewBlockIdForFileRequest { Path = path }, static (r, s) => r.Session = s, static (m, r, o) => m.FileSystem.GetNewBlockIdForFileAsync(r, o), cancellationToken).ConfigureAwait(false)).BlockId;

    /// <summary>A file's status with its blocks and their locations.</summary>
    public ValueTask<GetFileBlockInfoResponse> GetFileBlockInfoAsync(string path, Consistency consistency = Consistency.Linearizable, CancellationToken cancellationToken = default) =>
        InvokeAsync(FileSystemService + "GetFileBlockInfo", new GetFileBlockInfoRequest { Path = path, Consistency = consistency }, static (m, r, o) => m.FileSystem.GetFileBlockInfoAsync(r, o), CallKind.Read, cancellationToken);
}
