using System.Diagnostics;
using System.Text.RegularExpressions;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// Keeping what a running live system changed, on a copy of the minimal sample with SaveModuleCommand
/// and Persistence: its -t:PersistentDisk image booted with the persistence entry keeps a file across
/// boots and the default entry ignores the partition; liveimage-save-module writes the changes of a
/// running system to a disk qemu gives the guest (an ext4 image made on the host, read back with
/// debugfs: nothing is mounted on the host), and that module, added as a LiveModule, reruns only the ISO
/// stage and is there at the next boot. Four boots, each with a purpose of its own: about 13 minutes on a
/// quiet machine (four TCG boots and a packages-stage rebuild), so it is in the slow category.
/// </summary>
[Collection(MinimalImageCollection.Name)]
[Trait("Category", "Slow")]
public sealed partial class KeepChangesTests(MinimalImageFixture image, ITestOutputHelper output)
{
    private const string ChecksStart = "<!--checks-->";
    private const string ChecksEnd = "<!--/checks-->";

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
    public void PersistenceKeepsAFileOnlyWithItsEntryAndASavedModuleStackedOnTheImageBringsTheChangesBack()
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
        string[] usb = ["-p:BootTestModes=bios-usb", $"-p:BootTestDiskImage={img}"];

        // 1: the persistence entry: live-boot uses the partition, and a file written now is on it
        SetChecks(copy, """
            <BootCheck Include="persistence partition in use" Command="grep ' /run/live/persistence/' /proc/mounts" />
            <BootCheck Include="write a file" Command="echo kept-across-boots &gt; /home/user/persisted.txt &amp;&amp; sync" />
            """);
        Boot(copy, "persistence: write", [.. usb, "-p:BootTestMenuEntry=persistence"]);

        // 2: the default entry ignores the partition; the system's changes are saved as a module to a second disk
        var extra = Path.Combine(copy, "extra.img");
        var (mkfs, mkfsOutput) = Tools.Run("sh", "-c", $"truncate -s 64M '{extra}' && mkfs.ext4 -q -F '{extra}'");
        Assert.True(mkfs == 0, mkfsOutput);
        SetChecks(copy, """
            <BootCheck Include="partition ignored" Command="! grep -q /run/live/persistence /proc/mounts &amp;&amp; test ! -e /home/user/persisted.txt" />
            <BootCheck Include="a new file" Command="echo made-in-the-running-system &gt; /home/user/made.txt" />
            <BootCheck Include="a change under /etc" Command="echo changed-in-the-running-system &gt;&gt; /etc/issue &amp;&amp; rm /etc/motd" AsRoot="true" />
            <BootCheck Include="save the module" Command="mount /dev/vda /mnt &amp;&amp; liveimage-save-module mychanges /mnt &amp;&amp; umount /mnt" AsRoot="true" TimeoutSeconds="300" />
            """);
        Boot(copy, "default entry: save a module", [.. usb, "-p:BootTestExtraDisk=extra.img"]);

        // 3: the persistence entry again: the file written at the first boot is still there
        SetChecks(copy, """
            <BootCheck Include="the file is still there" Command="cat /home/user/persisted.txt" Expect="kept-across-boots" />
            """);
        Boot(copy, "persistence: read", [.. usb, "-p:BootTestMenuEntry=persistence"]);

        // the module, read back from the guest's disk without mounting it
        Directory.CreateDirectory(Path.Combine(copy, "saved"));
        var module = Path.Combine(copy, "saved/mychanges.squashfs");
        var (dump, dumpOutput) = Tools.Run("debugfs", "-R", $"dump /mychanges.squashfs {module}", extra);
        Assert.True(dump == 0 && File.Exists(module), dumpOutput);
        var (list, listing) = Tools.Run("unsquashfs", "-lln", "-d", "", module);
        Assert.True(list == 0, listing);
        Assert.Contains("/home/user/made.txt", listing);
        Assert.Contains("/etc/issue", listing);
        Assert.Matches(new Regex(@"^c\S+ +\S+ +0, *0 .*/etc/motd$", RegexOptions.Multiline), listing); // a whiteout: the file was deleted
        Assert.DoesNotContain("/etc/machine-id", listing);
        Assert.DoesNotContain("/var/log/", listing);
        Assert.DoesNotContain("/home/user/persisted.txt", listing);

        // the module on top of the image: only the ISO stage (and the netboot folder) reruns
        SetChecks(copy, """
            <BootCheck Include="the new file" Command="cat /home/user/made.txt" Expect="made-in-the-running-system" />
            <BootCheck Include="the change under /etc" Command="cat /etc/issue" Expect="changed-in-the-running-system" />
            <BootCheck Include="the deleted file" Command="test ! -e /etc/motd" />
            <BootCheck Include="the stack" Command="cat /run/live/medium/live/filesystem.module" Expect="mychanges.squashfs" />
            """);
        File.WriteAllText(project, File.ReadAllText(project).Replace(ChecksEnd, ChecksEnd + "\n<LiveModule Include=\"saved/mychanges.squashfs\" />"));
        var rebuild = image.Workspace.Build(copy, output);
        Assert.True(rebuild.Succeeded, "the build with the LiveModule failed");
        var ran = StageRuns().Matches(rebuild.Output).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Contains("iso", ran);
        Assert.Empty(ran.Except(["iso", "netboot"]));
        Assert.Contains("LIVE4042", rebuild.Output);
        Assert.Equal(["filesystem.squashfs", "mychanges.squashfs"], File.ReadAllLines(Path.Combine(copy, "obj/Release/amd64/iso/live/filesystem.module")));

        // 4: the image with the module: the changes are there
        Boot(copy, "the image with the module", "-p:BootTestModes=bios-cdrom");
        output.WriteLine($"the whole test: {total.Elapsed.TotalSeconds:0} s");
    }
}
