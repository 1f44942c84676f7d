using System.Text.RegularExpressions;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// Images built on images ("modular debian") on a copy of the built minimal sample as the base: a
/// console level (tmux, a file, a base file removed) and a top level on it. One chain, built once:
/// each level's module holds only its changes, the base's module is the same file in every image,
/// the top ISO boots with the three modules stacked, and an edit reruns only what it should.
/// The top's boot also keeps its changes (a modular image carries liveimage-save-module): it saves
/// them as a module to a disk qemu gives the guest (an ext4 image made on the host, read back with
/// debugfs: nothing is mounted on the host); added as a LiveModule at the end, it reruns only the ISO
/// and netboot stages, both stack it last, and the top boots with the changes.
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed partial class BaseImageTests(MinimalImageFixture image, ITestOutputHelper output)
{
    [GeneratedRegex(@"(\w+) \[amd64\]: runs because")]
    private static partial Regex StageRuns();

    private string Level(string name, string baseProject, string items, string hook)
    {
        var dir = Path.Combine(image.Workspace.Root, name);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(Path.Combine(dir, "hooks"));
        File.WriteAllText(Path.Combine(dir, name + ".liveproj"), $"""
            <Project Sdk="LiveImage.Sdk">
              <PropertyGroup>
                <LevelName>{name}</LevelName>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{baseProject}" />
            {items}
              </ItemGroup>
            </Project>
            """);
        var path = Path.Combine(dir, "hooks", "0100-" + name + ".sh");
        File.WriteAllText(path, "#!/bin/sh\nset -e\n" + hook + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return dir;
    }

    private static string Live(string project) => Path.Combine(project, "obj/Release/amd64/iso/live");

    private static (string Inode, DateTime Time) Identity(string file)
    {
        var (code, text) = Tools.Run("stat", "-c", "%d:%i", file);
        Assert.True(code == 0, text);
        return (text.Trim(), File.GetLastWriteTimeUtc(file));
    }

    [Fact]
    public void AChainBuildsModulesOfItsOwnChangesBootsStackedAndRebuildsOnlyAboveAnEdit()
    {
        var baseDir = image.CopyOfBuiltImage("modular-base");
        var console = Level("console", "../modular-base/debian-live-minimal.liveproj", """<Package Include="tmux;cron" Recommends="false" />""",
            "echo console > \"$1/etc/console-level\"\nrm -f \"$1/etc/motd\"");
        var top = Level("top", "../console/console.liveproj", """
                <BootCheck Include="tmux" Command="command -v tmux" />
                <BootCheck Include="a level's service runs" Command="systemctl is-active cron" Expect="active" />
                <BootCheck Include="console file" Command="cat /etc/console-level" Expect="console" />
                <BootCheck Include="motd removed by the console level" Command="test ! -e /etc/motd" />
                <BootCheck Include="top file" Command="cat /etc/top-level" Expect="top-1" />
                <BootCheck Include="package database" Command="dpkg --audit &amp;&amp; apt-get -q check &amp;&amp; dpkg-query -W less tmux" Expect="tmux" AsRoot="true" />
                <BootCheck Include="a new file" Command="echo made-in-the-running-system &gt; /home/user/made.txt" />
                <BootCheck Include="a change under /etc" Command="echo changed-in-the-running-system &gt;&gt; /etc/issue &amp;&amp; rm /etc/top-level" AsRoot="true" />
                <BootCheck Include="save the module" Command="mount /dev/vda /mnt &amp;&amp; liveimage-save-module mychanges /mnt &amp;&amp; umount /mnt" AsRoot="true" TimeoutSeconds="300" />
            """, "echo top-1 > \"$1/etc/top-level\"");

        var build = image.Workspace.Build(top, output);

        Assert.True(build.Succeeded, "the chain's build failed; its output is above");
        Assert.DoesNotContain("bootstrap [amd64]: runs", build.Output); // the base was built, and levels never bootstrap
        string[] modules = ["debian-live-minimal.squashfs", "debian-live-minimal-console.squashfs", "debian-live-minimal-console-top.squashfs"];
        Assert.Equal(modules, File.ReadAllLines(Path.Combine(Live(top), "filesystem.module")));
        // the base's module is the base's own squashfs, linked: the same file in every image built on it
        var baseSquashfs = Path.Combine(Live(baseDir), "filesystem.squashfs");
        Assert.Equal(Identity(baseSquashfs).Inode, Identity(Path.Combine(Live(console), modules[0])).Inode);
        Assert.Equal(Identity(baseSquashfs).Inode, Identity(Path.Combine(Live(top), modules[0])).Inode);
        Assert.Equal(Identity(Path.Combine(Live(console), modules[1])).Inode, Identity(Path.Combine(Live(top), modules[1])).Inode);
        // the console module: its package and file, a whiteout for the file it removed, and nothing of the base
        var (code, listing) = Tools.Run("unsquashfs", "-lls", Path.Combine(Live(top), modules[1]));
        Assert.True(code == 0, listing);
        Assert.Contains("squashfs-root/usr/bin/tmux", listing);
        Assert.Contains("squashfs-root/etc/console-level", listing);
        // the base's first-boot preset ('disable *') must not keep a level's packages from enabling their services
        Assert.Contains("squashfs-root/etc/systemd/system/multi-user.target.wants/cron.service", listing);
        Assert.Matches(new Regex(@"^c--------- root/root\s+0,\s+0 .* squashfs-root/etc/motd$", RegexOptions.Multiline), listing);
        Assert.DoesNotContain("squashfs-root/usr/bin/less", listing);
        Assert.True(new FileInfo(Path.Combine(Live(top), modules[1])).Length < new FileInfo(baseSquashfs).Length / 20, "the console module is not just its own changes");
        // the console module's own SBOM: the packages it adds to its base, none of the base's
        var moduleSbom = File.ReadAllText(Assert.Single(Directory.GetFiles(Path.Combine(console, "bin/Release/amd64"), "*.module.spdx.json")));
        Assert.Contains("pkg:deb/debian/tmux@", moduleSbom);
        Assert.Contains("pkg:deb/debian/cron@", moduleSbom);
        Assert.DoesNotContain("pkg:deb/debian/less@", moduleSbom);
        Assert.DoesNotContain("pkg:deb/debian/bash@", moduleSbom);
        Assert.Contains(modules[1], moduleSbom);
        Assert.Empty(Directory.GetFiles(Path.Combine(baseDir, "bin/Release/amd64"), "*.module.spdx.json"));
        // each level locks its own packages: the console's lock holds its packages apart from its base's
        Assert.Matches(new Regex(@"\[packages\]\n(.*\n)*tmux ", RegexOptions.None), File.ReadAllText(Path.Combine(console, "packages.lock.amd64")));

        var extra = Path.Combine(top, "extra.img");
        var (mkfs, mkfsOutput) = Tools.Run("sh", "-c", $"truncate -s 64M '{extra}' && mkfs.ext4 -q -F '{extra}'");
        Assert.True(mkfs == 0, mkfsOutput);
        var boot = image.Workspace.Build(top, output, "-t:BootTest", "-p:BootTestModes=bios-cdrom", "-p:BootTestExtraDisk=extra.img");
        Assert.True(boot.Succeeded, "the stacked image did not boot or a check failed; the output is above");
        var saved = SavedModule(top, extra);

        // a hook edit in the top level: only the top module is squashed again
        var before = modules[..2].Select(m => Identity(Path.Combine(Live(top), m))).ToList();
        File.WriteAllText(Path.Combine(top, "hooks/0100-top.sh"), "#!/bin/sh\nset -e\necho top-2 > \"$1/etc/top-level\"\n");
        string[] withCache = ["-p:StageCache=true", $"-p:StageCacheDirectory={Path.Combine(image.Workspace.Root, "modular-stage-cache")}/"];
        var edit = image.Workspace.Build(top, output, withCache);
        Assert.True(edit.Succeeded);
        Assert.Equal(before, modules[..2].Select(m => Identity(Path.Combine(Live(top), m))));
        Assert.DoesNotContain("packages [amd64]: runs", edit.Output);
        Assert.Equal("top-2\n", Tools.ReadFromSquashfs(Path.Combine(Live(top), modules[2]), "etc/top-level"));
        // the level's module went to the stage cache under its layers' keys: with it gone from obj/, the squash restores it
        Assert.Contains($"squash {modules[2]} [amd64]: stored in the stage cache, key ", edit.Output);
        var topModule = Tools.Sha256(Path.Combine(Live(top), modules[2]));
        File.Delete(Path.Combine(Live(top), modules[2]));
        File.Delete(Path.Combine(Live(top), "filesystem.module"));
        var restored = image.Workspace.Build(top, output, withCache);
        Assert.True(restored.Succeeded);
        Assert.Contains($"squash [amd64]: {modules[2]} restored from the stage cache, key ", restored.Output);
        Assert.DoesNotContain($"/{modules[2]} ", restored.Output.Split('\n').Where(l => l.Contains("squash [amd64]: ") && l.Contains(" MiB")));
        Assert.Equal(topModule, Tools.Sha256(Path.Combine(Live(top), modules[2])));

        // a level of configuration only: built once; a package in such a level is LIVE1055
        var conf = Level("conf", "../console/console.liveproj", """
                <BootCheck Include="conf file" Command="cat /etc/conf-level" Expect="conf" />
                <BootCheck Include="console file, from the console rebuilt below it" Command="cat /etc/console-level" Expect="console-2" />
            """, "echo conf > \"$1/etc/conf-level\"");
        File.WriteAllText(Path.Combine(conf, "conf.liveproj"), File.ReadAllText(Path.Combine(conf, "conf.liveproj"))
            .Replace("<LevelName>conf</LevelName>", "<LevelName>conf</LevelName>\n    <RebuildWhenBaseChanges>false</RebuildWhenBaseChanges>"));
        Assert.True(image.Workspace.Build(conf, output).Succeeded, "the configuration-only level did not build");
        var confHooks = File.GetLastWriteTimeUtc(Path.Combine(conf, "obj/Release/amd64/hooks.stamp"));
        var confModule = Path.Combine(Live(conf), "debian-live-minimal-console-conf.squashfs");
        Assert.Equal("conf\n", Tools.ReadFromSquashfs(confModule, "etc/conf-level"));
        var packaged = Level("packaged", "../console/console.liveproj", """<Package Include="file" Recommends="false" />""", "true");
        File.WriteAllText(Path.Combine(packaged, "packaged.liveproj"), File.ReadAllText(Path.Combine(packaged, "packaged.liveproj"))
            .Replace("<LevelName>packaged</LevelName>", "<LevelName>packaged</LevelName>\n    <RebuildWhenBaseChanges>false</RebuildWhenBaseChanges>"));
        var refused = image.Workspace.Build(packaged, output);
        Assert.False(refused.Succeeded);
        Assert.Matches(new Regex(@"error LIVE1055: .*RebuildWhenBaseChanges=false.*/var/lib/dpkg/info/file.list"), refused.Output);

        // an edit in the console level: the console module and the levels above it again, the base untouched
        File.WriteAllText(Path.Combine(console, "hooks/0100-console.sh"), "#!/bin/sh\nset -e\necho console-2 > \"$1/etc/console-level\"\nrm -f \"$1/etc/motd\"\n");
        var lower = image.Workspace.Build(top, output);
        Assert.True(lower.Succeeded);
        Assert.Equal(before[0], Identity(Path.Combine(Live(top), modules[0])));
        Assert.NotEqual(before[1], Identity(Path.Combine(Live(top), modules[1])));
        Assert.Equal("console-2\n", Tools.ReadFromSquashfs(Path.Combine(Live(top), modules[1]), "etc/console-level"));
        Assert.Matches(new Regex(@"hooks \[amd64\]: runs because .*"), lower.Output);

        // the configuration-only level is not built again: its changes are stacked on the new console module, and it boots
        var confAgain = image.Workspace.Build(conf, output, "-t:BootTest", "-p:BootTestModes=bios-cdrom");
        Assert.True(confAgain.Succeeded, "the configuration-only level did not boot on its new base; the output is above");
        Assert.Equal(confHooks, File.GetLastWriteTimeUtc(Path.Combine(conf, "obj/Release/amd64/hooks.stamp")));
        Assert.Equal(Identity(Path.Combine(Live(console), modules[1])).Inode, Identity(Path.Combine(Live(conf), modules[1])).Inode);

        // the module the top's boot saved, on top of the (since rebuilt) top: only the ISO and netboot stages rerun, both stack it last
        var project = Path.Combine(top, "top.liveproj");
        var text = File.ReadAllText(project);
        File.WriteAllText(project, text[..text.IndexOf("<BootCheck", StringComparison.Ordinal)] + """
            <LiveModule Include="saved/mychanges.squashfs" />
            <BootCheck Include="the new file" Command="cat /home/user/made.txt" Expect="made-in-the-running-system" />
            <BootCheck Include="the change under /etc" Command="cat /etc/issue" Expect="changed-in-the-running-system" />
            <BootCheck Include="a lower module's file the module deleted" Command="test ! -e /etc/top-level" />
            <BootCheck Include="the stack" Command="tail -n 1 /run/live/medium/live/filesystem.module" Expect="mychanges.squashfs" />
              </ItemGroup>
            </Project>
            """);
        var withModule = image.Workspace.Build(top, output);
        Assert.True(withModule.Succeeded, "the build with the LiveModule failed");
        var ran = StageRuns().Matches(withModule.Output).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Contains("iso", ran);
        Assert.Empty(ran.Except(["iso", "netboot"]));
        string[] stack = [.. modules, Path.GetFileName(saved)];
        Assert.Equal(stack, File.ReadAllLines(Path.Combine(Live(top), "filesystem.module")));
        var manifest = File.ReadAllLines(Path.Combine(top, "bin/Release/amd64/netboot/top.modules")).Where(l => !l.StartsWith('#')).Select(l => l.Split(' ')[0]);
        Assert.Equal(stack, manifest);
        var again = image.Workspace.Build(top, output, "-t:BootTest", "-p:BootTestModes=bios-cdrom");
        Assert.True(again.Succeeded, "the top with the saved module did not boot or a check failed; the output is above");
    }

    /// <summary>The module liveimage-save-module wrote to the guest's second disk, read back without mounting it; checks what it holds.</summary>
    private static string SavedModule(string top, string extra)
    {
        var listing = Tools.SavedModuleListing(extra, "mychanges.squashfs", Path.Combine(top, "saved"));
        Assert.Contains("/home/user/made.txt", listing);
        Assert.Contains("/etc/issue", listing);
        Assert.Matches(new Regex(@"^c\S+ +\S+ +0, *0 .*/etc/top-level$", RegexOptions.Multiline), listing); // a whiteout: a lower module's file deleted
        // made again at every boot, or this machine's, or what systemd rebuilds when /usr is newer than its stamps
        foreach (var left in new[] { "/etc/machine-id", "/var/log/", "/etc/.updated", "/var/.updated", "/etc/ld.so.cache", "/var/lib/systemd/catalog/database" })
            Assert.DoesNotContain(left, listing);
        return Path.Combine(top, "saved/mychanges.squashfs");
    }
}
