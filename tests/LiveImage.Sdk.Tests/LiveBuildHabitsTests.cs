using System.Xml.Linq;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// What a live-build user brings along, on one copy of the built minimal sample (only the packages stage and
/// the ones above it rerun): a package list file (config/package-lists), debconf answers as an item and as a
/// preseed file (config/preseed), a binary hook (config/hooks/*.binary) and a binary include file
/// (config/includes.binary); then a change of a binary hook alone reruns only the ISO stage, and a failing one is LIVE3010. The boot of a
/// BootMenuEntry, with one JUnit test case per check, is in the slow category (it boots twice).
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed class LiveBuildHabitsTests(MinimalImageFixture image, ITestOutputHelper output)
{
    [Fact]
    public void PackageListsPreseedingAndTheMediumsHooksAndFilesLandInTheImageAndTheIso()
    {
        var copy = image.CopyOfBuiltImage("habits", """
            <PackageList Include="package-lists/*.list.chroot" />
            <Debconf Include="locales/locales_to_be_generated" Type="multiselect" Value="en_US.UTF-8 UTF-8" />
            <DebconfFile Include="preseed/locale.cfg" />
            <BinaryIncludeFile Include="includes.binary/**" />
            """);
        Write(copy, "package-lists/tools.list.chroot", "# live-build's form: names, comments, blank lines\n\nlocales   # its answers come from Debconf below\ntree\n");
        Write(copy, "preseed/locale.cfg", "# debconf-set-selections lines\nlocales locales/default_environment_locale select en_US.UTF-8\n");
        Write(copy, "includes.binary/extra/readme.txt", "on the medium, not in the image\n");
        Write(copy, "hooks/0100-mark.binary", "#!/bin/sh\nset -eu\ntest -f \"$1/live/vmlinuz\"\necho \"$LIVEIMAGE_NAME $(cat \"$1/extra/readme.txt\")\" > \"$1/binary-hook.txt\"\n", executable: true);

        // lz4 (both builds): the squash stage reruns here, and this is not a test of its compression
        var build = image.Workspace.Build(copy, output, "-p:SquashfsCompression=lz4");
        Assert.True(build.Succeeded, "the build with a package list, debconf answers, a binary hook and a binary include file failed");
        Assert.DoesNotContain("bootstrap [amd64]: runs because", build.Output);
        Assert.DoesNotContain("configure [amd64]: runs because", build.Output);
        Assert.Contains("packages [amd64]: debconf-set-selections: 2 answer(s)", build.Output);
        output.WriteLine($"packages, hooks, finalize, squash, iso: {build.Duration.TotalSeconds:0} s");

        var squashfs = Path.Combine(copy, "obj/Release/amd64/iso/live/filesystem.squashfs");
        Assert.True(Tools.ExistsInSquashfs(squashfs, "/usr/bin/tree"), "the package list's tree is not installed");
        // locales' configuration used the answers set before its install: the locale generated and the default
        // (trixie's /etc/default/locale is a link to /etc/locale.conf)
        var localeConf = Tools.ExistsInSquashfs(squashfs, "/etc/locale.conf") ? "etc/locale.conf" : "etc/default/locale";
        Assert.Contains("LANG=en_US.UTF-8", Tools.ReadFromSquashfs(squashfs, localeConf));
        Assert.Contains("\nen_US.UTF-8 UTF-8", "\n" + Tools.ReadFromSquashfs(squashfs, "etc/locale.gen"));
        Assert.False(Tools.ExistsInSquashfs(squashfs, "/extra/readme.txt"), "a binary include file went into the image");

        var iso = Path.Combine(copy, "bin/Release/amd64/debian-live-minimal-1.0.0-amd64.iso");
        var (_, files) = Tools.Run("xorriso", "-indev", iso, "-find", "/", "-type", "f");
        Assert.Contains("/binary-hook.txt", files);
        Assert.Contains("/extra/readme.txt", files);
        Assert.Equal("debian-live-minimal on the medium, not in the image\n", ExtractFromIso(iso, "/binary-hook.txt"));

        // a binary hook's edit reruns the ISO stage alone, and the hook starts again from the staged tree
        Write(copy, "hooks/0100-mark.binary", "#!/bin/sh\nset -eu\ntest ! -e \"$1/binary-hook.txt\"\necho edited > \"$1/binary-hook.txt\"\n", executable: true);
        var again = image.Workspace.Build(copy, output, "-p:SquashfsCompression=lz4");
        Assert.True(again.Succeeded, "the rebuild after a binary hook's edit failed");
        Assert.Contains("iso [amd64]: runs because", again.Output);
        foreach (var stage in new[] { "packages", "hooks", "finalize", "squash" })
            Assert.DoesNotContain($"{stage} [amd64]: runs because", again.Output);
        Assert.Equal("edited\n", ExtractFromIso(iso, "/binary-hook.txt"));

        // a failing binary hook: LIVE3010 at the hook, with its exit code and the tail of its log
        Write(copy, "hooks/0200-fail.binary", "#!/bin/sh\necho 'the medium is broken' >&2\nexit 3\n", executable: true);
        var failed = image.Workspace.Build(copy, output, "-p:SquashfsCompression=lz4");
        Assert.False(failed.Succeeded, "a failing binary hook did not fail the build");
        Assert.Contains("error LIVE3010: Binary hook '0200-fail.binary' failed with exit code 3", failed.Output);
        Assert.Matches(new System.Text.RegularExpressions.Regex(@"hooks/0200-fail\.binary[^:\n]*: error LIVE3010"), failed.Output); // at the hook's file
        Assert.Contains("the medium is broken", failed.Output);
        Assert.Contains("logs/binary-hook-0200-fail.binary.log", failed.Output);
    }

    [SlowFact]
    [Trait("Category", "Slow")]
    public void ABootMenuEntryAskedForIsBootedFromTheMenuAndEachCheckIsATestCase()
    {
        var copy = image.CopyOfBuiltImage("menu-entry-boot", """
            <BootMenuEntry Include="habits" Title="Habits entry" KernelArguments="liveimage.habits=1" BootTest="true" />
            """);
        // two TCG boots in a row on a loaded machine: one took more than the default 600 s to its login prompt
        var boot = image.Workspace.Build(copy, output, "-t:BootTest", "-p:BootTestModes=bios-cdrom", "-p:BootTestTimeout=1200");
        Assert.True(boot.Succeeded, "BootTest with a BootMenuEntry to boot failed; its output is above");
        Assert.Contains("boot menu entry 'habits' chosen", boot.Output);

        var junit = XDocument.Load(Path.Combine(copy, "obj/Release/amd64/boot/junit.xml"));
        var cases = junit.Descendants("testcase").Select(c => (string)c.Attribute("name")!).ToList();
        output.WriteLine(string.Join("\n", cases));
        foreach (var name in new[] { "bios-cdrom", "bios-cdrom: id", "bios-cdrom: systemctl is-system-running", "bios-cdrom: apt sources",
                     "bios-cdrom-habits", "bios-cdrom-habits: kernel command line", "bios-cdrom-habits: id" })
            Assert.Contains(name, cases);
        Assert.Empty(junit.Descendants("failure"));
        Assert.DoesNotContain("bios-cdrom: kernel command line", cases); // the default entry has no arguments of its own to check
    }

    private static void Write(string project, string relative, string text, bool executable = false)
    {
        var path = Path.Combine(project, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        if (executable) File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32("755", 8));
    }

    private static string ExtractFromIso(string iso, string path)
    {
        var target = Path.Combine(Path.GetTempPath(), $"liveimage-extract-{Guid.NewGuid():N}");
        try
        {
            var (code, text) = Tools.Run("xorriso", "-osirrox", "on", "-indev", iso, "-extract", path, target);
            Assert.True(code == 0, text);
            return File.ReadAllText(target);
        }
        finally
        {
            File.Delete(target);
        }
    }
}
