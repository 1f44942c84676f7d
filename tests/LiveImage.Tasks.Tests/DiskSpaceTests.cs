using LiveImage.Tasks.Diagnostics;


namespace LiveImage.Tasks.Tests;

public sealed class DiskSpaceTests
{
    [Theory]
    [InlineData("Write failed because No space left on device", true)]
    [InlineData("cp: error writing 'x': No space left on device", true)]
    [InlineData("write: Disk quota exceeded", true)]
    [InlineData("FATAL ERROR: Failed to write to output filesystem", false)]
    public void AFullDiskIsToldFromOtherFailures(string line, bool full) =>
        Assert.Equal(full, DiskSpace.IsFull(["Parallel mksquashfs: Using 2 processors", line]));

    [Fact]
    public void FreeSpaceIsReadForMissingPathsFromTheirNearestParent()
    {
        Assert.True(DiskSpace.FreeMiB("/tmp") > 0);
        Assert.Equal(DiskSpace.FreeMiB("/tmp"), DiskSpace.FreeMiB("/tmp/liveimage-does-not-exist/live"), tolerance: 64);
    }
}
