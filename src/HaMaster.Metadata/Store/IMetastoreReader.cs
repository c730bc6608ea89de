namespace HaMaster.Metadata.Store;

/// <summary>
/// Runs a read against the committed store under the state machine's shared lock, so the read
/// sees a state between two applied batches (see <see cref="MetadataStateMachine"/>'s remarks).
/// </summary>
internal interface IMetastoreReader
{
    T Read<T>(Func<Metastore, T> read);
}
