using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// Issue 13, netboot of module stacks, on samples/modular: its essential, console, webserver and branding
/// levels built on a copy of the built minimal sample (the modular sample's base is that system) into one
/// shared netboot folder. The folder holds each module once and a manifest per image; webserver (the console
/// stack and its own level) netboots with BIOS PXE and branding, on the same console modules, with UEFI,
/// each showing its own top level; a copy of the folder with one byte of the bottom module changed stops
/// the boot in the initramfs with LIVE5010 quoting the console. The levels are built once for the class.
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed class StackNetbootTests(MinimalImageFixture image, ITestOutputHelper output)
{
    private static readonly object Gate = new();
    private static Stack? s_stack;

    private sealed record Stack(string Base, string Console, string Webserver, string Branding, string Folder, IReadOnlyList<BuildResult> Builds);

    private const string BaseModule = "debian-live-minimal.squashfs";
    private static readonly string[] ConsoleModules = [BaseModule, "debian-live-minimal-essential.squashfs", "debian-live-minimal-essential-console.squashfs"];

    /// <summary>A sample level copied beside the base, its BootCheck items replaced by checks of what each level put there.</summary>
    private string Level(string name, string checks)
    {
        var dir = image.Workspace.CopySample("modular/" + name, name);
        var project = Path.Combine(dir, name + ".liveproj");
        var text = Regex.Replace(File.ReadAllText(project), @"\s*<BootCheck [^>]*/>", "")
            .Replace("../base/base.liveproj", "../stack-base/debian-live-minimal.liveproj")
            .Replace("</ItemGroup>", checks + "\n  </ItemGroup>");
        File.WriteAllText(project, text);
        return dir;
    }

    private Stack Built()
    {
        lock (Gate)
        {
            if (s_stack is not null) return s_stack;
            Assert.True(image.ColdBuild.Succeeded, "the cold build of the minimal sample failed");
            var baseDir = image.CopyOfBuiltImage("stack-base");
            Level("essential", "");
            const string consoleChecks = """
                    <BootCheck Include="essential: nano" Command="command -v nano" />
                    <BootCheck Include="console: tmux" Command="command -v tmux" />
                    <BootCheck Include="console: greeting" Command="cat /etc/issue" Expect="modular sample: base, essential, console" />
                """;
            var console = Level("console", consoleChecks);
            var webserver = Level("webserver", consoleChecks + """
                    <BootCheck Include="webserver: lighttpd" Command="test -x /usr/sbin/lighttpd" />
                    <BootCheck Include="webserver: its page" Command="cat /var/www/html/index.html" Expect="Served by the webserver level" />
                """);
            var branding = Level("branding", consoleChecks + """
                    <BootCheck Include="branding: motd" Command="cat /etc/motd" Expect="branding level" />
                    <BootCheck Include="not the webserver level" Command="test ! -e /usr/sbin/lighttpd" />
                """);
            var folder = Path.Combine(image.Workspace.Root, "stack-netboot");
            var builds = new[] { webserver, branding, console }
                .Select(p => image.Workspace.Build(p, output, "-p:NetbootDirectory=" + folder)).ToList();
            s_stack = new Stack(baseDir, console, webserver, branding, folder, builds);
            return s_stack;
        }
    }


    private static string Inode(string path)
    {
        var (code, text) = Tools.Run("stat", "-c", "%d:%i", path);
        Assert.True(code == 0, text);
        return text.Trim();
    }

    private void AssertBuilt(Stack stack)
    {
        foreach (var build in stack.Builds.Where(b => !b.Succeeded)) output.WriteLine(build.Output);
        Assert.True(stack.Builds.All(b => b.Succeeded), "a level's build failed; its output is above");
    }

    [Fact]
    public void ThreeImagesShareOneFolderWithEachModuleOnceAndAManifestEach()
    {
        var stack = Built();
        AssertBuilt(stack);
        string[] modules = [.. ConsoleModules, "debian-live-minimal-essential-console-webserver.squashfs", "debian-live-minimal-essential-console-branding.squashfs"];
        Assert.Equal(modules.Order(StringComparer.Ordinal), Directory.GetFiles(stack.Folder, "*.squashfs").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        // one copy: the base's squashfs itself, linked through the levels into the folder
        Assert.Equal(Inode(Path.Combine(stack.Base, "obj/Release/amd64/iso/live/filesystem.squashfs")), Inode(Path.Combine(stack.Folder, BaseModule)));

        // each manifest lists its chain bottom first, with each module's size and sha256
        foreach (var (name, top) in new[] { ("console", (string?)null), ("webserver", modules[3]), ("branding", modules[4]) })
        {
            var lines = File.ReadAllLines(Path.Combine(stack.Folder, name + ".modules")).Where(l => !l.StartsWith('#')).ToList();
            string[] chain = top is null ? ConsoleModules : [.. ConsoleModules, top];
            Assert.Equal(chain.Select(m => $"{m} {new FileInfo(Path.Combine(stack.Folder, m)).Length} {Tools.Sha256(Path.Combine(stack.Folder, m))}"), lines);
            foreach (var file in new[] { ".vmlinuz", ".initrd.img", ".menu" }) Assert.True(File.Exists(Path.Combine(stack.Folder, name + file)), name + file);
        }

        // the menus offer one entry per image, each with its own kernel, initrd and manifest
        var pxelinux = File.ReadAllText(Path.Combine(stack.Folder, "pxelinux.cfg/default"));
        Assert.Equal(["branding", "console", "webserver"], Regex.Matches(pxelinux, @"^LABEL (\S+)$", RegexOptions.Multiline).Select(m => m.Groups[1].Value));
        Assert.Contains("  KERNEL webserver.vmlinuz\n  APPEND initrd=webserver.initrd.img boot=live components liveimage.modules=http://10.0.2.2:8080/webserver.modules console=tty0", pxelinux);
        Assert.Equal(3, Regex.Matches(File.ReadAllText(Path.Combine(stack.Folder, "grub/grub.cfg")), "^menuentry ", RegexOptions.Multiline).Count);
        Assert.Equal(3, Regex.Matches(File.ReadAllText(Path.Combine(stack.Folder, "boot.ipxe")), "^item ", RegexOptions.Multiline).Count);

        // the initrd holds the SDK's script and what it needs, beside live-boot's own
        var (code, listing) = Tools.Run("lsinitramfs", Path.Combine(stack.Folder, "webserver.initrd.img"));
        Assert.True(code == 0, listing);
        foreach (var file in new[] { "usr/lib/live/boot/9990-zz-liveimage-modules.sh", "usr/lib/live/boot/9990-mount-http.sh", "usr/bin/wget", "usr/bin/sha256sum" })
            Assert.Contains(file + "\n", listing);
    }

    [Fact]
    public void TheConsoleStackNetbootsToLoginWithItsModulesChecked()
    {
        var stack = Built();
        AssertBuilt(stack);
        var boot = image.Workspace.Build(stack.Webserver, output, "-t:BootTest", "-p:BootTestModes=netboot", "-p:NetbootDirectory=" + stack.Folder);
        Assert.True(boot.Succeeded, "the webserver stack did not netboot or a check failed; the output is above");
        var logs = Path.Combine(stack.Webserver, "obj/Release/amd64/boot");
        Assert.Contains("liveimage.modules: 4 modules checked", File.ReadAllText(Path.Combine(logs, "netboot.serial.log")));
        var http = File.ReadAllText(Path.Combine(logs, "netboot.http.log"));
        Assert.Contains("\"GET /webserver.modules\" 200", http);
        foreach (var module in ConsoleModules) Assert.Contains($"\"GET /{module}\" 200", http);
    }

    [Fact]
    public void TheSecondImageOfTheFolderNetbootsWithUefiShowingItsOwnTopLevel()
    {
        var stack = Built();
        AssertBuilt(stack);
        var boot = image.Workspace.Build(stack.Branding, output, "-t:BootTest", "-p:BootTestModes=netboot-uefi", "-p:NetbootDirectory=" + stack.Folder);
        Assert.True(boot.Succeeded, "the branding stack did not netboot from the shared folder or a check failed; the output is above");
        var http = File.ReadAllText(Path.Combine(stack.Branding, "obj/Release/amd64/boot/netboot-uefi.http.log"));
        Assert.Contains("\"GET /debian-live-minimal-essential-console-branding.squashfs\" 200", http);
        Assert.DoesNotContain("webserver", http);
    }

    [Fact]
    public void ACorruptedModuleStopsTheBootWithACodedFailureQuotingTheConsole()
    {
        var stack = Built();
        AssertBuilt(stack);
        var copy = Path.Combine(image.Workspace.Root, "stack-netboot-corrupted");
        if (Directory.Exists(copy)) Directory.Delete(copy, recursive: true);
        var (code, text) = Tools.Run("cp", "-r", stack.Folder, copy); // copies, not links: the built modules stay intact
        Assert.True(code == 0, text);
        var module = Path.Combine(copy, BaseModule);
        var expected = Tools.Sha256(module);
        using (var file = new FileStream(module, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = file.Length / 2;
            var b = file.ReadByte();
            file.Position = file.Length / 2;
            file.WriteByte((byte)(b ^ 0xFF));
        }
        var actual = Tools.Sha256(module);
        Assert.Equal(expected, Tools.Sha256(Path.Combine(stack.Folder, BaseModule)));

        var boot = image.Workspace.Build(stack.Console, output, "-t:BootTest", "-p:BootTestModes=netboot", "-p:NetbootDirectory=" + stack.Folder, "-p:BootTestNetbootDirectory=" + copy);

        Assert.False(boot.Succeeded);
        var message = $"liveimage.modules: error: module {BaseModule} from http://10.0.2.2:";
        Assert.Matches(new Regex(@"error LIVE5010: console booted as netboot stopped in the initramfs"), boot.Output);
        Assert.Contains(message, boot.Output);
        Assert.Contains($"failed its check: expected sha256 {expected}, actual sha256 {actual}", boot.Output);
        var serial = File.ReadAllText(Path.Combine(stack.Console, "obj/Release/amd64/boot/netboot.serial.log"));
        Assert.Contains(message, serial);
        Assert.DoesNotContain("login:", serial);
        Assert.Contains("LIVE5010", File.ReadAllText(Path.Combine(stack.Console, "obj/Release/amd64/boot/junit.xml")));
        // the shared folder itself is untouched
        Assert.Equal(expected, Tools.Sha256(Path.Combine(stack.Folder, BaseModule)));
    }
}
