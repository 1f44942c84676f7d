using System.Text.RegularExpressions;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// What a new user's small rescue image needs, on one boot of a copy of the minimal sample with
/// openssh-server and an ImageMirror: sshd runs (every boot is a first boot, so its host keys are
/// made), the live user can use systemd's tools over D-Bus, a BootCheck runs as root, and the image
/// keeps its updates and security sources. The boot goes through a qemu that aborts under KVM the
/// way it does on some hosts ("failed to set MSR"), so it also shows the fall-back to TCG.
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed class FirstBootTests(MinimalImageFixture image, ITestOutputHelper output)
{
    private const string Mirror = "http://mirror.example/debian";

    /// <summary>A qemu-system-x86_64 first on PATH that aborts under KVM and runs the real one otherwise.</summary>
    private static string QemuAbortingUnderKvm(string directory)
    {
        Directory.CreateDirectory(directory);
        var wrapper = Path.Combine(directory, "qemu-system-x86_64");
        File.WriteAllText(wrapper, """
            #!/bin/sh
            case " $* " in
              *" -accel kvm "*)
                echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2
                kill -ABRT $$ ;;
            esac
            exec /usr/bin/qemu-system-x86_64 "$@"
            """);
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return directory;
    }

    [Fact]
    public void SshRunsSystemdToolsWorkForTheUserRootChecksRunAndTheMirrorKeepsSecurityEvenWhenKvmAborts()
    {
        var copy = image.CopyOfBuiltImage("first-boot", """
            <Package Include="openssh-server" Recommends="false" />
            <BootCheck Include="ssh is active" Command="systemctl is-active ssh.service" />
            <BootCheck Include="host keys" Command="ls /etc/ssh/ssh_host_ed25519_key.pub" />
            <BootCheck Include="systemd tools over D-Bus" Command="loginctl list-sessions &amp;&amp; systemctl --no-pager status dbus.service" />
            <BootCheck Include="root" Command="id -un &amp;&amp; test -w /etc/shadow" Expect="root" AsRoot="true" />
            """);
        var bin = QemuAbortingUnderKvm(Path.Combine(copy, "fake-bin"));
        string[] path = ["env", $"PATH={bin}:{Environment.GetEnvironmentVariable("PATH")}"];

        var boot = image.Workspace.Run(copy, output, path,
            ["build", "-nodeReuse:false", "-tl:off", "-v:n", "-nologo", "-t:BootTest", "-p:BootTestModes=bios-cdrom", $"-p:ImageMirror={Mirror}"]);

        Assert.True(boot.Succeeded, "BootTest failed; its output is above");
        Assert.Matches(new Regex(@"KVM is not usable for guests on this host \(qemu exited with code 134 before the kernel started: .*failed to set MSR"), boot.Output);
        Assert.Matches(new Regex(@"boot test bios-cdrom reached login in [\d.]+ s \(accelerator tcg\)"), boot.Output);

        var squashfs = Path.Combine(copy, "obj/Release/amd64/iso/live/filesystem.squashfs");
        Assert.Equal("uninitialized\n", Tools.ReadFromSquashfs(squashfs, "etc/machine-id"));
        Assert.True(Tools.ExistsInSquashfs(squashfs, "/usr/bin/dbus-daemon"), "the system bus is in the base set");
        // every bootstrapped entry stays; only the main archive's URI is the image mirror now
        var bootstrapped = File.ReadAllLines(Path.Combine(copy, "obj/Release/amd64/layers/00-bootstrap/etc/apt/sources.list")).Where(l => l.StartsWith("deb ")).ToList();
        var main = bootstrapped[0].Split(' ')[1];
        var shipped = Tools.ReadFromSquashfs(squashfs, "etc/apt/sources.list").Split('\n').Where(l => l.StartsWith("deb ")).ToList();
        Assert.Equal(bootstrapped.Select(l => l.Replace($" {main} ", $" {Mirror} ")), shipped);
        Assert.Contains(shipped, l => l.Contains("-security") && !l.Contains(Mirror));
        Assert.Contains(shipped, l => l.Contains("-updates") && l.Contains(Mirror));
    }
}
