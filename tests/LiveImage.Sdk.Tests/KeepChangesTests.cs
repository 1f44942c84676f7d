using System.Diagnostics;
using System.Text.RegularExpressions;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// Keeping what a running live system changed on a persistence partition, on a copy of the minimal sample with
/// SaveModuleCommand and Persistence: its -t:PersistentDisk image, booted with the default entry and then with the
/// persistence entry (BootTestMenuEntries), keeps a file across boots only with that entry; the persistence boot then
/// saves its changes (the partition's rw/) with liveimage-save-module to a disk qemu gives the guest, and that module,
/// added as a LiveModule, turns the image's netboot folder into a stack whose netboot brings the file back. Five boots
/// and a packages-stage rebuild (squashfs-tools): slow. The module half on a modular image is in BaseImageTests (CI).
/// </summary>
[Collection(MinimalImageCollection.Name)]
[Trait("Category", "Slow")]
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

    private BuildResult Boot(string copy, string what, params string[] properties)
    {
        var clock = Stopwatch.StartNew();
        // a TCG boot of a USB disk on a busy machine can take over ten minutes to its login prompt
        var boot = image.Workspace.Build(copy, output, ["-t:BootTest", "-p:BootTestTimeout=1200", .. properties]);
        output.WriteLine($"boot '{what}': {clock.Elapsed.TotalSeconds:0} s");
        Assert.True(boot.Succeeded, $"boot '{what}' failed; its output is above");
        return boot;
    }

    [SlowFact]
    public void PersistenceKeepsAFileOnlyWithItsEntryAndAModuleSavedFromItNetbootsOnTheImage()
    {
        var total = Stopwatch.StartNew();
        var copy = image.CopyOfBuiltImage("keep-changes", ChecksStart + ChecksEnd);
        var project = Path.Combine(copy, "debian-live-minimal.liveproj");
        File.WriteAllText(project, File.ReadAllText(project).Replace("</PropertyGroup>",
            "<SaveModuleCommand>true</SaveModuleCommand><Persistence>true</Persistence><PersistenceSize>64</PersistenceSize></PropertyGroup>"));

        var disk = image.Workspace.Build(copy, output, "-t:PersistentDisk");
        Assert.True(disk.Succeeded, "-t:PersistentDisk failed");
        var img = Path.Combine(copy, "bin/Release/amd64/debian-live-minimal-1.0.0-amd64.img");
        Assert.True(File.Exists(img));
        Assert.Contains("squashfs-tools", File.ReadAllText(Path.Combine(copy, "bin/Release/amd64/debian-live-minimal-1.0.0-amd64.packages")));
        // each boot test boots the disk with the default entry (bios-usb), then with the persistence entry (bios-usb-persistence)
        string[] usb = ["-p:BootTestModes=bios-usb", $"-p:BootTestDiskImage={img}", "-p:BootTestMenuEntries=persistence"];

        // 1: live-boot uses the partition only with the persistence entry, and a file written then is on it
        SetChecks(copy, $"""
            <BootCheck Include="the partition only with its entry" Command="if {PersistenceBoot}; then grep ' /run/live/persistence/' /proc/mounts; else ! grep -q /run/live/persistence /proc/mounts; fi" />
            <BootCheck Include="write a file with the persistence entry" Command="if {PersistenceBoot}; then echo kept-across-boots &gt; /home/user/persisted.txt &amp;&amp; sync; fi" />
            """);
        Boot(copy, "default, then persistence: write", usb);

        // 2: the file is there only with the persistence entry; that boot saves its changes as a module to a second disk
        var extra = Path.Combine(copy, "extra.img");
        var (mkfs, mkfsOutput) = Tools.Run("sh", "-c", $"truncate -s 64M '{extra}' && mkfs.ext4 -q -F '{extra}'");
        Assert.True(mkfs == 0, mkfsOutput);
        SetChecks(copy, $"""
            <BootCheck Include="the file only with the persistence entry" Command="if {PersistenceBoot}; then grep -qx kept-across-boots /home/user/persisted.txt; else test ! -e /home/user/persisted.txt; fi" />
            <BootCheck Include="save the module from the persistence boot" Command="if {PersistenceBoot}; then mount /dev/vda /mnt &amp;&amp; liveimage-save-module persisted /mnt &amp;&amp; umount /mnt; fi" AsRoot="true" TimeoutSeconds="300" />
            """);
        Boot(copy, "default, then persistence: read and save", [.. usb, "-p:BootTestExtraDisk=extra.img"]);

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

        // 3: netbooted, the stack downloaded and checked in the initramfs: the file is there
        Boot(copy, "netboot with the module", "-p:BootTestModes=netboot");
        output.WriteLine($"the whole test: {total.Elapsed.TotalSeconds:0} s");
    }
}
