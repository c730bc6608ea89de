using HaMaster.Ufs.Local;
using HaMaster.Ufs.Tests.Contract;

namespace HaMaster.Ufs.Tests.Local;

/// <summary>The connector contract for file:///dir (a fresh temporary directory per test).</summary>
public sealed class LocalContractTests : UnderFileSystemContract
{
    protected override Task<ContractStore> NewStoreAsync() => Task.FromResult<ContractStore>(new LocalStore());

    private sealed class LocalStore : ContractStore
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("hamaster-ufs-contract-").FullName;

        public LocalStore() => Ufs = new LocalUnderFileSystemFactory().Create(new Uri("file://" + _dir), new Dictionary<string, string>());

        public override IUnderFileSystem Ufs { get; }

        public override async ValueTask WriteOutsideAsync(string path, ReadOnlyMemory<byte> content)
        {
            var full = Path.Join(_dir, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await File.WriteAllBytesAsync(full, content.ToArray());
        }

        public override async ValueTask DisposeAsync()
        {
            await Ufs.DisposeAsync();
            Directory.Delete(_dir, recursive: true);
        }
    }
}
