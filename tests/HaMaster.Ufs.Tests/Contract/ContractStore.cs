namespace HaMaster.Ufs.Tests.Contract;

/// <summary>
/// A fresh, empty store under test for <see cref="UnderFileSystemContract"/>: the connector, and
/// a way to change the store as another program would (behind the connector's back).
/// </summary>
public abstract class ContractStore : IAsyncDisposable
{
    public abstract IUnderFileSystem Ufs { get; }

    /// <summary>Writes (or overwrites) a file at <paramref name="path"/> as an outside program would, creating what the store needs for its parents.</summary>
    public abstract ValueTask WriteOutsideAsync(string path, ReadOnlyMemory<byte> content);

    public abstract ValueTask DisposeAsync();
}
