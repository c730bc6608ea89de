using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using HaMaster.Testing;
using HaMaster.Ufs.Tests.Contract;

namespace HaMaster.Ufs.Tests.S3;

/// <summary>The connector contract for s3://bucket (a fresh bucket per test) on a local s3rver.</summary>
[Collection(S3rverCollection.Name)]
public class S3ContractTests(S3rverFixture fixture) : UnderFileSystemContract
{
    /// <summary>The key prefix the mount is rooted at ("" for the bucket root).</summary>
    protected virtual string Prefix => string.Empty;

    protected override async Task<ContractStore> NewStoreAsync()
    {
        var bucket = S3rverProcess.NewBucketName();
        await fixture.Server.CreateBucketAsync(bucket);
        var root = Prefix.Length == 0 ? $"s3://{bucket}" : $"s3://{bucket}/{Prefix}";
        return new S3Store(fixture.Connect(root), fixture.Server, bucket, Prefix);
    }

    /// <summary>Outside writes go through a plain SDK client, as another program's would.</summary>
    private sealed class S3Store(IUnderFileSystem ufs, S3rverProcess server, string bucket, string prefix) : ContractStore
    {
        private readonly AmazonS3Client _outside = new(
            new BasicAWSCredentials(S3rverProcess.AccessKey, S3rverProcess.SecretKey),
            new AmazonS3Config
            {
                ServiceURL = server.Endpoint.ToString(),
                ForcePathStyle = true,
                AuthenticationRegion = "us-east-1",
                RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
                ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            });

        public override IUnderFileSystem Ufs => ufs;

        public override async ValueTask WriteOutsideAsync(string path, ReadOnlyMemory<byte> content)
        {
            await _outside.PutObjectAsync(new PutObjectRequest
            {
                BucketName = bucket,
                Key = prefix.Length == 0 ? path : prefix + "/" + path,
                InputStream = new MemoryStream(content.ToArray(), writable: false),
                UseChunkEncoding = false,
            });
        }

        public override async ValueTask DisposeAsync()
        {
            await ufs.DisposeAsync();
            _outside.Dispose();
        }
    }
}

/// <summary>The same contract for a mount rooted below the bucket root (s3://bucket/mnt/root).</summary>
[Collection(S3rverCollection.Name)]
public sealed class S3PrefixedContractTests(S3rverFixture fixture) : S3ContractTests(fixture)
{
    protected override string Prefix => "mnt/root";
}
