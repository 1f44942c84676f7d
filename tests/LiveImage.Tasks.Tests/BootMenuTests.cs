using LiveImage.Tasks.Iso;


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
    public void AStackOfModulesMakesTheInitramfsMountWithMount2AndOneSquashfsLeavesTheArgumentsAlone()
    {
        Assert.Equal("boot=live components", BootMenu.ForStack("boot=live components", 1));
        Assert.Equal("boot=live components LIBMOUNT_FORCE_MOUNT2=always", BootMenu.ForStack("boot=live components", 7));
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

public sealed class BootMenuEntriesTests
{
    [Fact]
    public void ToRamAndUserEntriesFollowTheStandardOnesInBothMenus()
    {
        var entries = BootMenu.Entries("Demo", "boot=live components", "quiet", [new BootEntry("rescue", "Rescue shell", "systemd.unit=rescue.target")]);
        Assert.Equal(["live", "failsafe", "toram", "rescue"], entries.Select(e => e.Label));
        Assert.Equal("boot=live components toram quiet", entries[2].KernelArguments);
        Assert.Equal("boot=live components systemd.unit=rescue.target quiet", entries[3].KernelArguments);
        Assert.Contains("menuentry \"Rescue shell\"", BootMenu.Grub(entries, 5));
        Assert.Contains("LABEL rescue\n  MENU LABEL Rescue shell", BootMenu.Isolinux("Demo", entries, 5));
    }

    [Fact]
    public void SplashSwitchesBothMenusToGraphics()
    {
        var entries = BootMenu.Entries("Demo", "boot=live", "");
        var isolinux = BootMenu.Isolinux("Demo", entries, 5, splash: true);
        var grub = BootMenu.Grub(entries, 5, splash: true);
        Assert.Contains("UI vesamenu.c32", isolinux);
        Assert.Contains("MENU BACKGROUND /isolinux/splash.png", isolinux);
        Assert.Contains("background_image $prefix/splash.png", grub);
        Assert.Contains("terminal_output gfxterm serial", grub);
    }

    [Fact]
    public void MetapackageControlDependsOnTheImagePackages()
    {
        var task = new PackMetapackage { PackageName = "demo-live", Version = "1.2.0-beta.1", Depends = [Items.Item("live-boot"), Items.Item("less"), Items.Item("less")] };
        var control = task.Control(PackMetapackage.DebianVersion(task.Version));
        Assert.Contains("Package: demo-live\n", control);
        Assert.Contains("Version: 1.2.0~beta.1\n", control);
        Assert.Contains("Depends: live-boot, less\n", control);
        Assert.Contains("Architecture: all\n", control);
    }
}
