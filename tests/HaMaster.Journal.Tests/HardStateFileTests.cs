using HaMaster.Chaos.Core.Files;
namespace HaMaster.Journal.Tests;

public class HardStateFileTests
{
    [Fact]
    public void Saves_survive_reopen()
    {
        using var dir = new TempDirectory();
        var path = dir.Sub("hardstate");
        using (var file = HardStateFile.Open(path))
        {
            Assert.Equal(default, file.Current);
            file.Save(new HardStateRecord(1, 2, 0));
            file.Save(new HardStateRecord(3, 0, 10));
            file.Save(new HardStateRecord(3, 5, 11));
            Assert.Equal(new HardStateRecord(3, 5, 11), file.Current);
        }
        using (var file = HardStateFile.Open(path))
        {
            Assert.Equal(new HardStateRecord(3, 5, 11), file.Current);
            file.Save(new HardStateRecord(4, 1, 12));
        }
        using (var file = HardStateFile.Open(path))
        {
            Assert.Equal(new HardStateRecord(4, 1, 12), file.Current);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(20)]
    [InlineData(32)] // the first byte that differs between the old and new slot here is the commit (offset 32); a tear after it leaves a complete save
    public void A_save_torn_by_a_crash_leaves_the_previous_state(int bytesReachingDisk)
    {
        using var dir = new TempDirectory();
        var path = dir.Sub("hardstate");
        var faults = new StorageFaultInjector();
        using (var file = HardStateFile.Open(path, faults))
        {
            file.Save(new HardStateRecord(5, 1, 9));
            file.Save(new HardStateRecord(6, 2, 9));
            faults.CrashAfterBytes = bytesReachingDisk;
            Assert.ThrowsAny<IOException>(() => file.Save(new HardStateRecord(7, 3, 10)));
        }
        using (var file = HardStateFile.Open(path))
        {
            Assert.Equal(new HardStateRecord(6, 2, 9), file.Current);
        }
    }

    [Fact]
    public void A_save_written_but_not_synced_is_lost_whole_on_power_loss()
    {
        using var dir = new TempDirectory();
        var path = dir.Sub("hardstate");
        var faults = new StorageFaultInjector();
        using (var file = HardStateFile.Open(path, faults))
        {
            file.Save(new HardStateRecord(2, 1, 0));
            faults.SyncError = new SimulatedCrashException("power cut before fdatasync");
            var e = Assert.Throws<JournalFailedException>(() => file.Save(new HardStateRecord(3, 1, 0)));
            Assert.Contains("still intact", e.Message);
            Assert.Equal(new HardStateRecord(2, 1, 0), file.Current);
        }
        faults.LoseUnsyncedWrites();
        using (var file = HardStateFile.Open(path))
        {
            Assert.Equal(new HardStateRecord(2, 1, 0), file.Current);
        }
    }

    [Fact]
    public void A_crash_between_write_and_rename_at_creation_leaves_no_file()
    {
        using var dir = new TempDirectory();
        var path = dir.Sub("hardstate");
        var faults = new StorageFaultInjector { RenameError = new SimulatedCrashException("crash before rename") };
        Assert.Throws<SimulatedCrashException>(() => HardStateFile.Open(path, faults));
        Assert.False(File.Exists(path));
        using var file = HardStateFile.Open(path);
        Assert.Equal(default, file.Current);
    }

    [Fact]
    public void Disk_full_and_permission_denied_fail_clearly_and_keep_the_old_state()
    {
        using var dir = new TempDirectory();
        var path = dir.Sub("hardstate");
        var faults = new StorageFaultInjector();
        using (var file = HardStateFile.Open(path, faults))
        {
            file.Save(new HardStateRecord(1, 1, 1));
            faults.WriteError = StorageFaultInjector.DiskFull();
            Assert.Contains("No space left", Assert.Throws<JournalFailedException>(() => file.Save(new HardStateRecord(2, 2, 2))).Message);
            faults.WriteError = StorageFaultInjector.PermissionDenied();
            Assert.Contains("Permission denied", Assert.Throws<JournalFailedException>(() => file.Save(new HardStateRecord(2, 2, 2))).Message);
            Assert.Equal(new HardStateRecord(1, 1, 1), file.Current);
            faults.WriteError = null;
            file.Save(new HardStateRecord(2, 2, 2));
        }
        using (var file = HardStateFile.Open(path))
        {
            Assert.Equal(new HardStateRecord(2, 2, 2), file.Current);
        }
    }

    [Fact]
    public void Both_slots_damaged_is_refused_clearly()
    {
        using var dir = new TempDirectory();
        var path = dir.Sub("hardstate");
        using (var file = HardStateFile.Open(path))
        {
            file.Save(new HardStateRecord(1, 1, 1));
        }
        var bytes = File.ReadAllBytes(path);
        bytes[20] ^= 1;
        bytes[4096 + 20] ^= 1;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<JournalCorruptedException>(() => HardStateFile.Open(path));
        Assert.Equal(path, e.File);
        Assert.Contains("neither slot", e.Message);
    }
}
