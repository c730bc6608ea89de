using HaMaster.Ufs;
using HaMaster.Ufs.Local;
using HaMaster.Ufs.S3;

namespace HaMaster.Server.Hosting;

/// <summary>The store connectors this master serves (issue 18): add a connector's factory to the list.</summary>
internal static class StoreConnectors
{
    public static UnderFileSystems Create() => new(
    [
        new LocalUnderFileSystemFactory(),
        new S3UnderFileSystemFactory(),
    ]);
}
