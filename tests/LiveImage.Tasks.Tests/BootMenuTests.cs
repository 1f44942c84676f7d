using LiveImage.Tasks.Internal;

namespace LiveImage.Tasks.Tests;

public sealed class BootMenuTests
{
    private static readonly IReadOnlyList<BootEntry> Entries = BootMenu.Entries("Demo 1.0", "boot=live components", "console=ttyS0");

    [Fact]
    public void BothMenusHaveTheNormalAndTheFailsafeEntryWithTheSameArguments()
    {
        var isolinux = BootMenu.Isolinux("Demo", Entries, 5);
        var grub = BootMenu.Grub(Entries, 5);
        Assert.Contains("APPEND initrd=/live/initrd.img boot=live components console=ttyS0\n", isolinux);
        Assert.Contains("linux /live/vmlinuz boot=live components console=ttyS0\n", grub);
        Assert.Contains($"boot=live components {BootMenu.FailsafeArguments} console=ttyS0", isolinux);
        Assert.Contains($"boot=live components {BootMenu.FailsafeArguments} console=ttyS0", grub);
        Assert.Contains("menuentry \"Demo 1.0 (fail-safe mode)\"", grub);
        Assert.Contains("DEFAULT live", isolinux);
    }

    [Fact]
    public void TimeoutIsInTenthsForIsolinuxAndSecondsForGrub()
    {
        Assert.Contains("TIMEOUT 50\n", BootMenu.Isolinux("Demo", Entries, 5));
        Assert.Contains("set timeout=5\n", BootMenu.Grub(Entries, 5));
    }

    [Fact]
    public void IncludeFileDestinationComesFromTheGlobOrMetadata()
    {
        Assert.Equal("/etc/skel/.bashrc", CopyIncludeFiles.Destination(new Microsoft.Build.Utilities.TaskItem("rootfs/etc/skel/.bashrc", new Dictionary<string, string> { ["RecursiveDir"] = "etc/skel/" })));
        Assert.Equal("/opt/tool.sh", CopyIncludeFiles.Destination(Items.Item("x/tool.sh", ("Destination", "opt/tool.sh"))));
    }
}
