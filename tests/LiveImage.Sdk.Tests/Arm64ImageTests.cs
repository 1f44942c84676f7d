using System.Text.RegularExpressions;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// The architecture matrix end to end (issue 7): the minimal sample built for amd64 and arm64 in one
/// 'dotnet build' (amd64 reused from the shared image, arm64 bootstrapped through qemu-user and
/// binfmt_misc), then the arm64 ISO booted in qemu-system-aarch64 with AAVMF under TCG to the login
/// prompt. The slowest test of the suite: set LIVEIMAGE_SKIP_ARM64=1 to leave it out.
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed class Arm64ImageTests(MinimalImageFixture image, ITestOutputHelper output)
{
    [Arm64Fact]
    public void MinimalSampleBuildsForAmd64AndArm64InOneBuildAndArm64BootsToLogin()
    {
        var copy = image.CopyOfBuiltImage("arm64");
        try
        {
            // RegisterBinfmt: works whether or not the host has qemu-aarch64 enabled, and leaves it as it was
            var build = image.Workspace.Build(copy, output, "-p:Architectures=\"amd64;arm64\"", "-p:RegisterBinfmt=true");
            Assert.True(build.Succeeded, "the amd64;arm64 build failed; its output is above");

            // amd64 came from the shared image's layers; arm64 was bootstrapped under emulation
            Assert.DoesNotContain("bootstrap [amd64]: mmdebstrap", build.Output);
            Assert.Contains("bootstrap [arm64]: mmdebstrap", build.Output);
            var arm64Iso = Path.Combine(copy, "bin/Release/arm64/debian-live-minimal-1.0.0-arm64.iso");
            var amd64Iso = Path.Combine(copy, "bin/Release/amd64/debian-live-minimal-1.0.0-amd64.iso");
            Assert.True(File.Exists(arm64Iso));

            // the outer build's table: header, then one row per architecture with its ISO, size and time
            var lines = build.Output.Split('\n').Select(l => l.Trim()).ToList();
            var header = lines.FindIndex(l => Regex.IsMatch(l, @"^architecture\s+ISO\s+size\s+time$"));
            Assert.True(header >= 0, "no architecture/ISO/size/time table");
            Assert.Matches($@"^amd64\s+{Regex.Escape(amd64Iso)}\s+\d+ MiB\s+\S.*$", lines[header + 1]);
            Assert.Matches($@"^arm64\s+{Regex.Escape(arm64Iso)}\s+\d+ MiB\s+\S.*$", lines[header + 2]);
            var bootstrap = Regex.Match(build.Output, @"bootstrap \[arm64\]: done in ([\d.]+) s");
            output.WriteLine($"amd64;arm64 build: {build.Duration.TotalSeconds:0} s; arm64 bootstrap under emulation: {bootstrap.Groups[1].Value} s; {lines[header + 2]}");

            // arm64: UEFI only (no isolinux), GRUB's aa64 image, the PL011 console on the kernel command line
            var (code, report) = Tools.Run("xorriso", "-indev", arm64Iso, "-report_el_torito", "plain");
            Assert.Equal(0, code);
            Assert.Matches(new Regex(@"El Torito boot img\s*:\s*1\s+UEFI"), report);
            Assert.DoesNotMatch(new Regex(@"El Torito boot img\s*:\s*\d+\s+BIOS"), report);
            var (_, files) = Tools.Run("xorriso", "-indev", arm64Iso, "-find", "/", "-type", "f");
            Assert.Contains("/EFI/BOOT/BOOTAA64.EFI", files);
            Assert.DoesNotContain("/isolinux/", files);
            var grubCfg = Path.Combine(copy, "obj/Release/arm64/iso/boot/grub/grub.cfg");
            Assert.Contains("console=ttyAMA0,115200n8", File.ReadAllText(grubCfg));
            Assert.Contains("ARM64", Tools.Run("sh", "-c", $"zcat -f '{copy}/obj/Release/arm64/iso/live/vmlinuz' | file -").Output);

            var boot = image.Workspace.Build(copy, output, "-t:BootTest", "-p:Architecture=arm64", "-p:BootTestModes=uefi-cdrom", "-p:BootTestTimeout=1200");
            Assert.True(boot.Succeeded, "the arm64 boot test failed; its output is above");
            var login = Regex.Match(boot.Output, @"boot test uefi-cdrom reached login in ([\d.]+) s \(accelerator tcg\)");
            Assert.True(login.Success, "no 'reached login' line for uefi-cdrom under TCG");
            output.WriteLine($"arm64 uefi-cdrom (TCG): login prompt after {login.Groups[1].Value} s");
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("LIVEIMAGE_KEEP_TEST_OUTPUT") != "1") Tools.Run("rm", "-rf", copy);
        }
    }
}

/// <summary>The arm64 end-to-end test; LIVEIMAGE_SKIP_ARM64=1 skips it (it takes the longest).</summary>
public sealed class Arm64FactAttribute : FactAttribute
{
    public Arm64FactAttribute()
    {
        if (Environment.GetEnvironmentVariable("LIVEIMAGE_SKIP_ARM64") == "1") Skip = "LIVEIMAGE_SKIP_ARM64=1";
    }
}
