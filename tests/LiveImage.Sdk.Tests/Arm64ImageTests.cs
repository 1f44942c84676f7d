using System.Text.RegularExpressions;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// The architecture matrix end to end (issue 7): the minimal sample built for amd64 and arm64 in one
/// 'dotnet build' (amd64 from the shared image's layers, arm64 bootstrapped through qemu-user and
/// binfmt_misc), and the arm64 ISO booted in qemu-system-aarch64 with AAVMF under TCG to the login
/// prompt. Both tests use one copy of the shared image; whichever runs first builds arm64 (the second
/// build is then a no-op). Measured on the 2-core development machine under load: the arm64 build
/// about 36 minutes (its bootstrap 32 of them, amd64's 2), each arm64 boot about 4 minutes, so they
/// are slow tests: eng/test.sh --slow (LIVEIMAGE_SLOW_TESTS=1) runs them.
/// </summary>
[Collection(MinimalImageCollection.Name)]
[Trait("Category", "Slow")]
public sealed class Arm64ImageTests(MinimalImageFixture image, ITestOutputHelper output)
{
    private static readonly object Gate = new();
    private static string? s_copy;

    private string Copy
    {
        get
        {
            lock (Gate) return s_copy ??= image.CopyOfBuiltImage("arm64");
        }
    }

    private string Arm64Iso => Path.Combine(Copy, "bin/Release/arm64/debian-live-minimal-1.0.0-arm64.iso");

    /// <summary>The amd64;arm64 build; RegisterBinfmt works whether or not the host has qemu-aarch64 enabled, and leaves it as it was.</summary>
    private BuildResult BuildBoth() =>
        image.Workspace.Build(Copy, output, "-p:Architectures=\"amd64;arm64\"", "-p:RegisterBinfmt=true");

    [SlowFact]
    public void MinimalSampleBuildsForAmd64AndArm64InOneBuild()
    {
        var build = BuildBoth();
        Assert.True(build.Succeeded, "the amd64;arm64 build failed; its output is above");

        // amd64 came from the shared image's layers; arm64 was bootstrapped under emulation (unless the other test did it)
        Assert.DoesNotContain("bootstrap [amd64]: mmdebstrap", build.Output);
        var amd64Iso = Path.Combine(Copy, "bin/Release/amd64/debian-live-minimal-1.0.0-amd64.iso");
        Assert.True(File.Exists(Arm64Iso));

        // the outer build's table: a header, then one row per architecture with its ISO, size and time
        var lines = build.Output.Split('\n').Select(l => l.Trim()).ToList();
        var header = lines.FindIndex(l => Regex.IsMatch(l, @"^architecture\s+ISO\s+size\s+time$"));
        Assert.True(header >= 0, "no architecture/ISO/size/time table");
        Assert.Matches($@"^amd64\s+{Regex.Escape(amd64Iso)}\s+\d+ MiB\s+\S.*$", lines[header + 1]);
        Assert.Matches($@"^arm64\s+{Regex.Escape(Arm64Iso)}\s+\d+ MiB\s+\S.*$", lines[header + 2]);
        var bootstrap = Regex.Match(build.Output, @"bootstrap \[arm64\]: done in ([\d.]+) s");
        output.WriteLine($"amd64;arm64 build: {build.Duration.TotalSeconds:0} s; arm64 bootstrap under emulation: {(bootstrap.Success ? bootstrap.Groups[1].Value + " s" : "(done earlier)")}");

        // arm64: UEFI only (no isolinux), a GPT whose EFI system partition holds GRUB's aa64 image, the PL011 console
        var (code, report) = Tools.Run("xorriso", "-indev", Arm64Iso, "-report_el_torito", "plain", "-report_system_area", "plain");
        output.WriteLine(report);
        Assert.Equal(0, code);
        Assert.Matches(new Regex(@"El Torito boot img\s*:\s*1\s+UEFI"), report);
        Assert.DoesNotMatch(new Regex(@"El Torito boot img\s*:\s*\d+\s+BIOS"), report);
        Assert.Matches(new Regex(@"GPT partition path\s*:\s*\d+\s+/boot/grub/efi\.img"), report);
        var (_, files) = Tools.Run("xorriso", "-indev", Arm64Iso, "-find", "/", "-type", "f");
        Assert.Contains("/EFI/BOOT/BOOTAA64.EFI", files);
        Assert.DoesNotContain("/isolinux/", files);
        Assert.Contains("console=ttyAMA0,115200n8", File.ReadAllText(Path.Combine(Copy, "obj/Release/arm64/iso/boot/grub/grub.cfg")));
        Assert.Contains("ARM64", Tools.Run("sh", "-c", $"zcat -f '{Copy}/obj/Release/arm64/iso/live/vmlinuz' | file -").Output);
        // the qemu binary mmdebstrap copies in for the bootstrap is gone again
        Assert.False(Tools.ExistsInSquashfs(Path.Combine(Copy, "obj/Release/arm64/iso/live/filesystem.squashfs"), "/usr/bin/qemu-aarch64-static"));
    }

    [SlowFact]
    public void Arm64ImageBootsToLoginWithUefiFromACdrom()
    {
        // builds first when the other test has not (BootTest depends on Build)
        var boot = image.Workspace.Build(Copy, output, "-t:BootTest", "-p:Architecture=arm64", "-p:RegisterBinfmt=true",
            "-p:BootTestModes=uefi-cdrom", "-p:BootTestTimeout=1200");
        Assert.True(boot.Succeeded, "the arm64 boot test failed; its output is above");
        var login = Regex.Match(boot.Output, @"boot test uefi-cdrom reached login in ([\d.]+) s \(accelerator tcg\)");
        Assert.True(login.Success, "no 'reached login' line for uefi-cdrom under TCG");
        output.WriteLine($"arm64 uefi-cdrom (TCG): login prompt after {login.Groups[1].Value} s");
    }
}
