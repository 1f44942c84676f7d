using System.Diagnostics;
using System.Text.RegularExpressions;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// Keeping what a running live system changed, on a copy of the minimal sample with Persistence: its -t:PersistentDisk
/// image keeps a file a persistence boot wrote on its partition, which the next persistence boot finds and the default
/// entry ignores (CI: three boots, only the ISO stage reruns). Slow: a module saved with liveimage-save-module from a
/// persistence boot, added as a LiveModule, netboots as a stack (a packages-stage rebuild for squashfs-tools, two boots;
/// the module half on a modular image is in BaseImageTests, CI).
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed partial class KeepChangesTests(MinimalImageFixture image, ITestOutputHelper output)
{
    private const string ChecksStart = "<!--checks-->";
    private const string ChecksEnd = "<!--/checks-->";

    /// <summary>A shell test for the boot that chose the persistence entry (the default entry's command line lacks the word).</summary>
    private const string PersistenceBoot = "grep -qw persistence /proc/cmdline";

    [GeneratedRegex(@"(\w+) \[amd64\]: runs because")]
    private static partial Regex StageRuns();

    /// <summary>Sets the BootCheck items the next boot runs (they are no stage's input: no stage reruns).</summary>
    private static void SetChecks(string copy, string checks)
    {
        var project = Path.Combine(copy, "debian-live-minimal.liveproj");
        var text = File.ReadAllText(project);
        var start = text.IndexOf(ChecksStart, StringComparison.Ordinal) + ChecksStart.Length;
        var end = text.IndexOf(ChecksEnd, StringComparison.Ordinal);
        File.WriteAllText(project, text[..start] + "\n" + checks + "\n" + text[end..]);
    }

    [GeneratedRegex(@"boot test (\S+) reached login in")]
    private static partial Regex BootPassed();

    /// <summary>The modes a boot test booted to login, in order.</summary>
    private static List<string> Booted(BuildResult boot) => BootPassed().Matches(boot.Output).Select(m => m.Groups[1].Value).Distinct().ToList();

    [GeneratedRegex(@"partition \d+ 'persistence' at (\d+) MiB, (\d+) MiB")]
    private static partial Regex PersistencePartition();

    /// <summary>A copy of the built image with Persistence (and the given properties) and its disk image, written by -t:PersistentDisk.</summary>
    private (string Copy, string Disk, BuildResult Build) PersistentDisk(string name, string properties)
    {
        var copy = image.CopyOfBuiltImage(name, ChecksStart + ChecksEnd);
        var project = Path.Combine(copy, "debian-live-minimal.liveproj");
        File.WriteAllText(project, File.ReadAllText(project).Replace("</PropertyGroup>",
            $"<Persistence>true</Persistence><PersistenceSize>64</PersistenceSize>{properties}</PropertyGroup>"));
        var disk = image.Workspace.Build(copy, output, "-t:PersistentDisk");
        Assert.True(disk.Succeeded, "-t:PersistentDisk failed");
        var img = Path.Combine(copy, "bin/Release/amd64/debian-live-minimal-1.0.0-amd64.img");
        Assert.True(File.Exists(img));
        return (copy, img, disk);
    }

    /// <summary>
    /// A file of the disk image's persistence partition, read on the host: the partition copied out, its journal
    /// replayed by e2fsck (the guest was stopped, not shut down), the file read by debugfs.
    /// </summary>
    private static string FromPersistencePartition(string disk, BuildResult build, string path)
    {
        var partition = PersistencePartition().Match(build.Output);
        Assert.True(partition.Success, "the disk stage did not report its partition");
        var copy = disk + ".persistence";
        var (dd, ddOutput) = Tools.Run("dd", $"if={disk}", $"of={copy}", "bs=1M", $"skip={partition.Groups[1].Value}", $"count={partition.Groups[2].Value}", "status=none");
        Assert.True(dd == 0, ddOutput);
        var (fsck, fsckOutput) = Tools.Run("e2fsck", "-fy", copy);
        Assert.True(fsck < 4, fsckOutput);
        var (cat, text) = Tools.Run("debugfs", "-R", $"cat {path}", copy);
        Assert.True(cat == 0, text);
        File.Delete(copy);
        return text;
    }

    private BuildResult Boot(string copy, string what, params string[] properties)
    {
        var clock = Stopwatch.StartNew();
        // a TCG boot of a USB disk on a busy machine can take over ten minutes to its login prompt
        var boot = image.Workspace.Build(copy, output, ["-t:BootTest", "-p:BootTestTimeout=1200", .. properties]);
        output.WriteLine($"boot '{what}': {clock.Elapsed.TotalSeconds:0} s");
        Assert.True(boot.Succeeded, $"boot '{what}' failed; its output is above");
        return boot;
    }

    [Fact]
    public void APersistenceBootKeepsAFileOnTheDiskImageForTheNextOneAndTheDefaultEntryIgnoresThePartition()
    {
        var total = Stopwatch.StartNew();
        var (copy, img, disk) = PersistentDisk("persistence", "");
        Assert.DoesNotContain("squashfs-tools", File.ReadAllText(Path.Combine(copy, "bin/Release/amd64/debian-live-minimal-1.0.0-amd64.packages")));
        string[] usb = [$"-p:BootTestDiskImage={img}"];

        // 1: the persistence entry alone: live-boot uses the partition, and a file written then lands on it
        SetChecks(copy, """
            <BootCheck Include="the persistence partition in use" Command="grep ' /run/live/persistence/' /proc/mounts" />
            <BootCheck Include="write a file" Command="echo kept-across-boots &gt; /home/user/persisted.txt &amp;&amp; sync" />
            """);
        var write = Boot(copy, "persistence: write", [.. usb, "-p:BootTestModes=bios-usb-persistence"]);
        Assert.Equal(["bios-usb-persistence"], Booted(write));
        Assert.StartsWith("kept-across-boots\n", FromPersistencePartition(img, disk, "/rw/home/user/persisted.txt"));

        // 2 and 3: the default entry leaves the partition alone, so the file is not there; the persistence entry finds it
        SetChecks(copy, $"""
            <BootCheck Include="the partition only with its entry" Command="if {PersistenceBoot}; then grep ' /run/live/persistence/' /proc/mounts; else ! grep -q /run/live/persistence /proc/mounts; fi" />
            <BootCheck Include="the file only with the persistence entry" Command="if {PersistenceBoot}; then grep -qx kept-across-boots /home/user/persisted.txt; else test ! -e /home/user/persisted.txt; fi" />
            """);
        var read = Boot(copy, "default, then persistence: read", [.. usb, "-p:BootTestModes=bios-usb", "-p:BootTestMenuEntries=persistence"]);
        Assert.Equal(["bios-usb", "bios-usb-persistence"], Booted(read));
        output.WriteLine($"the whole test: {total.Elapsed.TotalSeconds:0} s");
    }

    [SlowFact]
    [Trait("Category", "Slow")]
    public void AModuleSavedFromAPersistenceBootNetbootsAsAStackOnTheImage()
    {
        var total = Stopwatch.StartNew();
        var (copy, img, _) = PersistentDisk("keep-changes", "<SaveModuleCommand>true</SaveModuleCommand>");
        var project = Path.Combine(copy, "debian-live-minimal.liveproj");
        Assert.Contains("squashfs-tools", File.ReadAllText(Path.Combine(copy, "bin/Release/amd64/debian-live-minimal-1.0.0-amd64.packages")));

        // 1: a persistence boot writes a file and saves its changes (the partition's rw/) as a module to a second disk
        var extra = Path.Combine(copy, "extra.img");
        var (mkfs, mkfsOutput) = Tools.Run("sh", "-c", $"truncate -s 64M '{extra}' && mkfs.ext4 -q -F '{extra}'");
        Assert.True(mkfs == 0, mkfsOutput);
        SetChecks(copy, """
            <BootCheck Include="write a file" Command="echo kept-across-boots &gt; /home/user/persisted.txt" />
            <BootCheck Include="save the module" Command="mount /dev/vda /mnt &amp;&amp; liveimage-save-module persisted /mnt &amp;&amp; umount /mnt" AsRoot="true" TimeoutSeconds="300" />
            """);
        Boot(copy, "persistence: write and save", $"-p:BootTestDiskImage={img}", "-p:BootTestModes=bios-usb-persistence", "-p:BootTestExtraDisk=extra.img");
        // the module, read back from the guest's disk without mounting it: the persistence partition's rw/
        var listing = Tools.SavedModuleListing(extra, "persisted.squashfs", Path.Combine(copy, "saved"));
        Assert.Contains("/home/user/persisted.txt", listing);
        Assert.DoesNotContain("/etc/machine-id", listing);
        Assert.DoesNotContain("/etc/.updated", listing);

        // the module on top of the image: only the ISO and netboot stages rerun; the netboot folder becomes a stack
        SetChecks(copy, """
            <BootCheck Include="the file from the persistence partition" Command="cat /home/user/persisted.txt" Expect="kept-across-boots" />
            <BootCheck Include="no persistence partition" Command="! grep -q /run/live/persistence /proc/mounts" />
            """);
        File.WriteAllText(project, File.ReadAllText(project).Replace(ChecksEnd, ChecksEnd + "\n<LiveModule Include=\"saved/persisted.squashfs\" />"));
        var rebuild = image.Workspace.Build(copy, output);
        Assert.True(rebuild.Succeeded, "the build with the LiveModule failed");
        var ran = StageRuns().Matches(rebuild.Output).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Contains("iso", ran);
        Assert.Empty(ran.Except(["iso", "netboot"]));
        Assert.Equal(["filesystem.squashfs", "persisted.squashfs"], File.ReadAllLines(Path.Combine(copy, "obj/Release/amd64/iso/live/filesystem.module")));
        var manifest = File.ReadAllLines(Path.Combine(copy, "bin/Release/amd64/netboot/debian-live-minimal.modules")).Where(l => !l.StartsWith('#')).Select(l => l.Split(' ')[0]);
        Assert.Equal(["filesystem.squashfs", "persisted.squashfs"], manifest);

        // 2: netbooted, the stack downloaded and checked in the initramfs: the file is there
        Boot(copy, "netboot with the module", "-p:BootTestModes=netboot");
        output.WriteLine($"the whole test: {total.Elapsed.TotalSeconds:0} s");
    }
}
