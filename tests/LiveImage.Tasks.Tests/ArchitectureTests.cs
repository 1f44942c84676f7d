using LiveImage.Tasks.BootTesting;
using LiveImage.Tasks.Configuration;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Emulation;
using LiveImage.Tasks.Iso;
using LiveImage.Tasks.Processes;

using static LiveImage.Tasks.Tests.Items;

namespace LiveImage.Tasks.Tests;

/// <summary>
/// The architecture matrix without building anything: the per-architecture tables, binfmt_misc
/// entries and what the build tells the user to run, maintainer-script failures under emulation,
/// the decisions ResolveLiveImageConfiguration makes for a foreign architecture, device trees,
/// the arm64 qemu machine and the outer build's table.
/// </summary>
public sealed class ArchitectureTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeBuildEngine _engine = new();

    public void Dispose() => _dir.Dispose();

    // ---- per-architecture tables -----------------------------------------------------------------

    [Theory]
    [InlineData("amd64", "linux-image-amd64", "x86_64-efi", "BOOTX64.EFI", true, "grub-efi-amd64-bin", "qemu-x86_64")]
    [InlineData("i386", "linux-image-686-pae", "i386-efi", "BOOTIA32.EFI", true, "grub-efi-ia32-bin", "qemu-i386")]
    [InlineData("arm64", "linux-image-arm64", "arm64-efi", "BOOTAA64.EFI", false, "grub-efi-arm64-bin", "qemu-aarch64")]
    [InlineData("armhf", "linux-image-armmp", "arm-efi", "BOOTARM.EFI", false, "grub-efi-arm-bin", "qemu-arm")]
    public void EachArchitectureHasItsKernelBootLoadersAndBinfmtHandler(string name, string kernel, string grubTarget, string efiFile, bool bios, string grubPackage, string handler)
    {
        var arch = DebianArchitecture.Find(name)!;
        Assert.Equal(kernel, arch.KernelPackage);
        Assert.Equal(grubTarget, arch.GrubEfiTarget);
        Assert.Equal(efiFile, arch.EfiBootFile);
        Assert.Equal(bios, arch.HasBios);
        Assert.Equal(grubPackage, arch.GrubEfiPackage);
        Assert.Equal(grubPackage, HostTools.PackageFor("/usr/lib/grub/" + grubTarget));
        Assert.Equal(handler, arch.BinfmtHandler);
        Assert.Equal("qemu-user-static", HostTools.PackageFor(arch.QemuUserStatic));
    }

    [Fact]
    public void OnlyArmKernelsShipDeviceTreesAndUseThePl011Console()
    {
        Assert.Equal(["arm64", "armhf"], DebianArchitecture.All.Where(a => a.HasDeviceTrees).Select(a => a.Name));
        Assert.Equal(["arm64", "armhf"], DebianArchitecture.All.Where(a => a.SerialConsole == "ttyAMA0").Select(a => a.Name));
    }

    [Theory]
    [InlineData("amd64", "amd64", true, "Native")]
    [InlineData("i386", "amd64", true, "NativeCompatible")]
    [InlineData("i386", "amd64", false, "Emulated")] // a kernel without 32-bit support
    [InlineData("arm64", "amd64", true, "Emulated")]
    [InlineData("armhf", "amd64", true, "Emulated")]
    [InlineData("armhf", "arm64", true, "NativeCompatible")]
    [InlineData("amd64", "arm64", true, "Emulated")]
    public void ExecutionModeDependsOnTheHostAndOnWhatItsKernelRuns(string image, string host, bool archTestSaysOk, string expected)
    {
        Assert.Equal(expected, DebianArchitecture.Find(image)!.ExecutionOn(host, _ => archTestSaysOk).ToString());
    }

    // ---- binfmt_misc ---------------------------------------------------------------------------

    /// <summary>/proc/sys/fs/binfmt_misc/qemu-aarch64 as qemu-user-static registers it (Debian 12).</summary>
    private const string Aarch64Entry = """
        enabled
        interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
        flags: PF
        offset 0
        magic 7f454c460201010000000000000000000200b700
        mask ffffffffffffff00fffffffffffffffffeffffff

        """;

    private const string ProcMounts = """
        proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
        binfmt_misc /proc/sys/fs/binfmt_misc binfmt_misc rw,nosuid,nodev,noexec,relatime 0 0
        /dev/vda / ext4 rw,relatime 0 0
        """;

    [Fact]
    public void BinfmtEntryIsParsedFromTheKernelsText()
    {
        var entry = BinfmtEntry.Parse(Aarch64Entry);
        Assert.True(entry.Enabled);
        Assert.Equal("/usr/libexec/qemu-binfmt/aarch64-binfmt-P", entry.Interpreter);
        Assert.Equal("PF", entry.Flags);
        Assert.True(entry.FixBinary);

        var disabled = BinfmtEntry.Parse(Aarch64Entry.Replace("enabled", "disabled").Replace("flags: PF", "flags: OC"));
        Assert.False(disabled.Enabled);
        Assert.False(disabled.FixBinary);
    }

    [Fact]
    public void BinfmtMiscMountIsFoundInProcMounts()
    {
        Assert.True(Binfmt.IsMounted(ProcMounts));
        Assert.False(Binfmt.IsMounted(ProcMounts.Replace("/proc/sys/fs/binfmt_misc", "/mnt/elsewhere")));
        Assert.False(Binfmt.IsMounted(""));
    }

    [Fact]
    public void AReadyHandlerHasNoProblem() =>
        Assert.Null(Binfmt.Diagnose("qemu-aarch64", mounted: true, "enabled\n", Aarch64Entry));

    [Fact]
    public void UnmountedBinfmtMiscSaysToMountItAndEnableTheHandler()
    {
        var problem = Binfmt.Diagnose("qemu-aarch64", mounted: false, null, null)!;
        Assert.Contains("not mounted", problem.Reason);
        Assert.Equal("mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc && update-binfmts --enable qemu-aarch64", problem.Command);
    }

    [Fact]
    public void UnregisteredHandlerSaysToEnableIt()
    {
        var problem = Binfmt.Diagnose("qemu-arm", mounted: true, "enabled\n", null)!;
        Assert.Contains("not registered", problem.Reason);
        Assert.Equal("update-binfmts --enable qemu-arm", problem.Command);
    }

    [Fact]
    public void DisabledHandlerSaysToSwitchItOn()
    {
        var problem = Binfmt.Diagnose("qemu-aarch64", mounted: true, "enabled\n", Aarch64Entry.Replace("enabled", "disabled"))!;
        Assert.Contains("disabled", problem.Reason);
        Assert.Equal("echo 1 > /proc/sys/fs/binfmt_misc/qemu-aarch64", problem.Command);
    }

    [Fact]
    public void BinfmtMiscSwitchedOffAsAWholeSaysSo()
    {
        var problem = Binfmt.Diagnose("qemu-aarch64", mounted: true, "disabled\n", Aarch64Entry)!;
        Assert.Equal("echo 1 > /proc/sys/fs/binfmt_misc/status", problem.Command);
    }

    [Fact]
    public void HandlerWithoutTheFixBinaryFlagIsNotReady()
    {
        var problem = Binfmt.Diagnose("qemu-aarch64", mounted: true, "enabled\n", Aarch64Entry.Replace("flags: PF", "flags: OC"))!;
        Assert.Contains("lacks the F flag", problem.Reason);
        Assert.Contains("qemu-user-static", problem.Reason);
        Assert.Equal("update-binfmts --disable qemu-aarch64 && update-binfmts --enable qemu-aarch64", problem.Command);
    }

    [Fact]
    public void TheRegisteringGuardUndoesOnlyRecordedChangesAndOnlyAsTheLastUser()
    {
        var script = BinfmtSession.Script;
        // the last build to leave (the only one able to take the lock exclusively) restores
        Assert.Contains("flock -n -x 9", script);
        Assert.Contains("registered-$handler", script);
        Assert.Contains("update-binfmts --disable \"$h\"", script);
        Assert.Contains("umount \"$mnt\"", script);
        // it waits for its standard input to close, which also happens when the build is killed
        Assert.Contains("while read -r _; do :; done", script);
    }

    // ---- maintainer scripts under emulation ------------------------------------------------------

    [Fact]
    public void FailedPostinstIsFoundWithItsPackage()
    {
        const string log = """
            Setting up ca-certificates (20250419) ...
            Setting up libc-bin (2.41-12) ...
            qemu: uncaught target signal 11 (Segmentation fault) - core dumped
            Segmentation fault
            dpkg: error processing package libc-bin (--configure):
             installed libc-bin package post-installation script subprocess returned error exit status 139
            dpkg: dependency problems prevent configuration of locales:
             locales depends on libc-bin (>> 2.41); however:
              Package libc-bin is not configured yet.
            Errors were encountered while processing:
             libc-bin
             locales
            E: Sub-process /usr/bin/dpkg returned an error code (1)
            """;
        var failure = MaintainerScriptFailure.Find(log)!;
        Assert.Equal("libc-bin", failure.Package);
        Assert.Equal("post-installation", failure.Script);
        Assert.Equal("returned error exit status 139", failure.Outcome);
    }

    [Fact]
    public void OlderDpkgWordingAndAKilledScriptAreFoundToo()
    {
        var old = MaintainerScriptFailure.Find("""
            dpkg: error processing package man-db (--configure):
             subprocess installed post-installation script returned error exit status 1
            """)!;
        Assert.Equal(("man-db", "post-installation", "returned error exit status 1"), (old.Package, old.Script, old.Outcome));

        var killed = MaintainerScriptFailure.Find(
            "dpkg: error processing package systemd:arm64 (--configure):\r\n installed systemd:arm64 package post-installation script subprocess was killed by signal (Segmentation fault), core dumped\r\n")!;
        Assert.Equal("systemd:arm64", killed.Package);
        Assert.Equal("was killed by signal (Segmentation fault)", killed.Outcome);
    }

    [Fact]
    public void FailedPreinstOfAnArchiveNamesThePackage()
    {
        var failure = MaintainerScriptFailure.Find("""
            Unpacking dbus (1.16.2-2) ...
            dpkg: error processing archive /var/cache/apt/archives/dbus_1.16.2-2_arm64.deb (--unpack):
             new dbus package pre-installation script subprocess returned error exit status 2
            """)!;
        Assert.Equal("dbus", failure.Package);
        Assert.Equal("pre-installation", failure.Script);

        var oldArchive = MaintainerScriptFailure.Find("""
            dpkg: error processing archive /var/cache/apt/archives/foo_1.0-1_armhf.deb (--unpack):
             subprocess new pre-installation script returned error exit status 1
            """)!;
        Assert.Equal("foo", oldArchive.Package);
    }

    [Fact]
    public void OtherAptFailuresAreNotMaintainerScriptFailures()
    {
        Assert.Null(MaintainerScriptFailure.Find("E: Unable to locate package nosuch\n"));
        Assert.Null(MaintainerScriptFailure.Find("""
            dpkg: dependency problems prevent configuration of locales:
             locales depends on libc-bin; however:
            dpkg: error processing package locales (--configure):
             dependency problems - leaving unconfigured
            """));
    }

    [Fact]
    public void EmulatedMaintainerScriptFailureIsLIVE2014NamingThePackageAndSuggestingANativeBuild()
    {
        var log = _dir.File("logs/packages.log", "dpkg: error processing package libc-bin (--configure):\n installed libc-bin package post-installation script subprocess returned error exit status 139\n");
        var error = Assert.Throws<LiveImageException>(() =>
            LiveImageTask.ThrowIfEmulationFailure("arm64", "packages", new ToolResult(100, ["E: Sub-process /usr/bin/dpkg returned an error code (1)"], log, [])));
        Assert.Equal("EmulatedMaintainerScriptFailed", error.ResourceName);
        Assert.StartsWith("LIVE2014: The post-installation script of package 'libc-bin' returned error exit status 139 while arm64 programs ran through qemu-user emulation", error.Message);
        Assert.Contains("native arm64 machine", error.Message);
        Assert.Contains(log, error.Message);
    }

    [Fact]
    public void TheSameFailureInANativeBuildIsLeftToTheStagesOwnError()
    {
        var log = _dir.File("logs/packages.log", "dpkg: error processing package libc-bin (--configure):\n installed libc-bin package post-installation script subprocess returned error exit status 1\n");
        LiveImageTask.ThrowIfEmulationFailure("", "packages", new ToolResult(100, ["E: failed"], log, []));
    }

    // ---- ResolveLiveImageConfiguration for a foreign architecture ----------------------------------

    private ResolveLiveImageConfiguration Resolve(string architecture, Action<ResolveLiveImageConfiguration>? configure = null, params string[] tools)
    {
        var bin = Path.Combine(_dir.Path, "bin");
        Directory.CreateDirectory(bin);
        foreach (var tool in tools) _dir.File("bin/" + tool, "", executable: true);
        var task = new ResolveLiveImageConfiguration
        {
            BuildEngine = _engine,
            Architecture = architecture,
            Suite = "trixie",
            IsRoot = () => true,
            HostArchitecture = "amd64",
            CanRunNatively = a => a == "i386",
            HostDirectoryExists = d => d is "/usr/lib/grub/x86_64-efi" or "/usr/lib/grub/i386-efi",
            ToolSearchPath = bin,
            GrubEfiFetchDirectory = Path.Combine(_dir.Path, "obj/grub-efi/"),
        };
        configure?.Invoke(task);
        return task;
    }

    private static readonly string[] EmulationTools = ["arch-test", "qemu-aarch64-static", "setsid", "flock", "dpkg-deb"];

    [Fact]
    public void Arm64OnAnAmd64HostIsEmulatedAndTakesGrubFromTheImagesArchive()
    {
        var task = Resolve("arm64", null, EmulationTools);
        Assert.True(task.Execute(), _engine.AllErrors);
        Assert.Equal("arm64", task.EmulatedArchitecture);
        Assert.Equal("grub-efi-arm64-bin", task.GrubEfiPackage);
        Assert.Equal(Path.Combine(_dir.Path, "obj/grub-efi/usr/lib/grub"), task.GrubEfiDirectory);
        Assert.Equal("linux-image-arm64", task.KernelPackage);
    }

    [Fact]
    public void Amd64OnItsOwnHostNeedsNoEmulationAndUsesTheHostsGrub()
    {
        var task = Resolve("amd64");
        Assert.True(task.Execute(), _engine.AllErrors);
        Assert.Equal("", task.EmulatedArchitecture);
        Assert.Equal("", task.GrubEfiPackage);
        Assert.Equal("/usr/lib/grub", task.GrubEfiDirectory);
    }

    [Fact]
    public void I386OnAnAmd64HostRunsNativelyButNeedsArchTestAndTheHostsIa32Grub()
    {
        var task = Resolve("i386", t => t.HostDirectoryExists = _ => false);
        Assert.Equal(["arch-test", "/usr/lib/grub/i386-efi"], task.ResolveArchitectureTools(DebianArchitecture.Find("i386")!));
        Assert.Equal("", task.EmulatedArchitecture);
        Assert.Equal("/usr/lib/grub", task.GrubEfiDirectory);
        Assert.Equal("grub-efi-ia32-bin", HostTools.PackageFor("/usr/lib/grub/i386-efi"));
    }

    [Fact]
    public void Arm64OnAnArm64HostIsNativeAndNeedsTheHostsGrubPackage()
    {
        var task = Resolve("arm64", t => { t.HostArchitecture = "arm64"; t.HostDirectoryExists = _ => false; });
        Assert.Equal(["/usr/lib/grub/arm64-efi"], task.ResolveArchitectureTools(DebianArchitecture.Find("arm64")!));
        Assert.Equal("", task.EmulatedArchitecture);
        Assert.Equal("", task.GrubEfiPackage);
    }

    [Fact]
    public void MissingQemuUserStaticIsLIVE2002NamingThePackage()
    {
        var task = Resolve("arm64", null, "arch-test", "setsid", "flock", "dpkg-deb");
        Assert.False(task.Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Equal("LIVE2002", error.Code);
        Assert.Contains("'qemu-aarch64-static'", error.Message);
        Assert.Contains("apt-get install qemu-user-static", error.Message);
    }

    [Fact]
    public void RegisterBinfmtNeedsUpdateBinfmts()
    {
        var task = Resolve("arm64", t => t.RegisterBinfmt = true, EmulationTools);
        Assert.False(task.Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Contains("'update-binfmts'", error.Message);
        Assert.Contains("apt-get install binfmt-support", error.Message);
    }

    [Fact]
    public void PackagesAndHooksAreFilteredByArchitecturesMetadataForArm64()
    {
        var hookA = _dir.File("hooks/0100-all.sh", "#!/bin/sh\n", executable: true);
        var hookB = _dir.File("hooks/0200-amd64.sh", "#!/bin/sh\n", executable: true);
        var task = Resolve("arm64", t =>
        {
            t.Packages = [Item("less"), Item("grub-pc", ("Architectures", "amd64;i386")), Item("u-boot-tools", ("Architectures", "arm64;armhf"))];
            t.Hooks = [Item(hookA), Item(hookB, ("Architectures", "amd64"))];
        }, EmulationTools);
        Assert.True(task.Execute(), _engine.AllErrors);
        Assert.Equal(["less", "u-boot-tools"], task.ResolvedPackages.Select(p => p.ItemSpec));
        Assert.Equal([hookA], task.ResolvedHooks.Select(h => h.ItemSpec));
    }

    // ---- device trees ----------------------------------------------------------------------------

    [Fact]
    public void DtbOnAnArchitectureWithoutDeviceTreesIsLIVE1030()
    {
        var task = Resolve("amd64", t => t.Dtb = "rockchip/rk3399-rockpro64.dtb");
        Assert.False(task.Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Equal("LIVE1030", error.Code);
        Assert.Contains("arm64, armhf", error.Message);
    }

    [Theory]
    [InlineData("/usr/lib/linux-image-6.12.48+deb13-arm64/rockchip/rk3399-rockpro64.dtb")]
    [InlineData("../rk3399.dtb")]
    [InlineData("rockchip/rk3399-rockpro64")]
    public void DtbThatIsNotARelativeDtbPathIsLIVE1031(string dtb)
    {
        var task = Resolve("arm64", t => t.Dtb = dtb, EmulationTools);
        Assert.False(task.Execute());
        Assert.Equal("LIVE1031", Assert.Single(_engine.Errors).Code);
    }

    [Fact]
    public void ARelativeDtbOnArm64IsAccepted()
    {
        var task = Resolve("arm64", t => { t.Dtb = "rockchip/rk3399-rockpro64.dtb"; t.IncludeDtb = true; }, EmulationTools);
        Assert.True(task.Execute(), _engine.AllErrors);
    }

    [Fact]
    public void TheGrubMenuLoadsTheDeviceTreeInEveryEntry()
    {
        var entries = BootMenu.Entries("Live", "boot=live components", "console=ttyAMA0,115200n8");
        var grub = BootMenu.Grub(entries, 5, deviceTree: "/dtb/rockchip/rk3399-rockpro64.dtb");
        Assert.Equal(entries.Count, grub.Split('\n').Count(l => l == "    devicetree /dtb/rockchip/rk3399-rockpro64.dtb"));
        Assert.DoesNotContain("devicetree", BootMenu.Grub(entries, 5));
    }

    [Fact]
    public void GrubModulesAreThoseTheTargetHasPlusFdtForADeviceTree()
    {
        var modules = Path.Combine(_dir.Path, "arm64-efi");
        foreach (var m in new[] { "linux", "normal", "fdt", "serial" }) _dir.File("arm64-efi/" + m + ".mod", "");
        Assert.Equal(["normal", "linux", "serial"], new MakeIsoHybrid().ModulesFor(modules));
        Assert.Equal(["normal", "linux", "serial", "fdt"], new MakeIsoHybrid { DeviceTree = "/dtb/x.dtb" }.ModulesFor(modules));
    }

    // ---- arm64 in qemu ---------------------------------------------------------------------------

    [Fact]
    public void Arm64BootsWithUefiOnlyOnTheVirtMachineWithAavmf()
    {
        var machine = QemuMachine.Find("arm64")!;
        Assert.DoesNotContain(machine.SupportedModes, m => m.Firmware == QemuFirmware.Bios);
        Assert.Contains(QemuBootMode.UefiCdrom, machine.SupportedModes);
        Assert.Contains(QemuBootMode.UefiUsb, machine.SupportedModes);
        Assert.Equal("qemu-efi-aarch64", HostTools.PackageFor(machine.DefaultFirmwareCode));
        Assert.Equal("qemu-system-arm", HostTools.PackageFor(machine.Program));
        Assert.Equal($"console={DebianArchitecture.Find("arm64")!.SerialConsole},115200", machine.KernelConsole);
        Assert.Equal("UnknownBootMode", Assert.Throws<LiveImageException>(() => QemuBootMode.ParseList("bios-cdrom", machine)).ResourceName);
    }

    [Fact]
    public void Arm64UefiCdromCommandLine()
    {
        var args = QemuCommandLine.Build(new QemuLaunch(QemuMachine.Arm64, QemuBootMode.UefiCdrom, QemuAccel.Tcg, "/i/live.iso", 2048, 2,
            "/usr/share/AAVMF/AAVMF_CODE.fd", "/tmp/vars.fd"));
        var text = string.Join(' ', args);
        Assert.Contains("-accel tcg -cpu cortex-a57 -machine virt", text);
        Assert.Contains("-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/AAVMF/AAVMF_CODE.fd", text);
        Assert.Contains("-device virtio-scsi-pci,id=scsi0", text);
        Assert.Contains("-device scsi-cd,drive=live,bootindex=0", text);
    }

    [Fact]
    public void KvmIsOnlyTriedForGuestsOfTheHostsArchitecture()
    {
        Assert.Equal(["amd64"], QemuMachine.Amd64.KvmHosts);
        Assert.Equal(["arm64"], QemuMachine.Arm64.KvmHosts);
        Assert.Empty(QemuMachine.I386.KvmHosts); // SMM, which its UEFI firmware needs, is often missing under nested KVM
    }

    [Fact]
    public void I386BootsWithSeaBiosAndTheSecureBootCapable32BitOvmfOnQ35()
    {
        var machine = QemuMachine.Find("i386")!;
        Assert.Equal(4, machine.SupportedModes.Count(m => !m.IsNetwork));
        Assert.Equal("ovmf-ia32", HostTools.PackageFor(machine.DefaultFirmwareCode));
        Assert.Equal("ovmf-ia32", HostTools.PackageFor(machine.DefaultFirmwareVars));
        var text = string.Join(' ', QemuCommandLine.Build(new QemuLaunch(machine, QemuBootMode.UefiCdrom, QemuAccel.Kvm, "/i/live.iso", 2048, 2,
            machine.DefaultFirmwareCode, "/tmp/vars.fd")));
        Assert.Contains("-machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on", text);
        Assert.Contains("-cpu host", text);
    }

    // ---- the outer build's table -----------------------------------------------------------------

    [Fact]
    public void OuterBuildTableHasArchitectureIsoSizeAndTime()
    {
        var lines = SummarizeImages.Table([
            ("amd64", "/p/bin/Release/amd64/x-1.0.0-amd64.iso", 400L * 1024 * 1024, 212.4),
            ("arm64", "/p/bin/Release/arm64/x-1.0.0-arm64.iso", 380L * 1024 * 1024, 1510),
        ]).ToList();
        Assert.Equal(3, lines.Count);
        Assert.Matches(@"^architecture\s+ISO\s+size\s+time$", lines[0]);
        Assert.Matches(@"^amd64\s+/p/bin/Release/amd64/x-1\.0\.0-amd64\.iso\s+400 MiB\s+3m 32s$", lines[1]);
        Assert.Matches(@"^arm64\s+/p/bin/Release/arm64/x-1\.0\.0-arm64\.iso\s+380 MiB\s+25m 10s$", lines[2]);
        Assert.Equal(lines[1].IndexOf("MiB", StringComparison.Ordinal), lines[2].IndexOf("MiB", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(4.04, "4.0 s")]
    [InlineData(61, "1m 01s")]
    [InlineData(3725, "1h 02m 05s")]
    public void DurationsAreShort(double seconds, string expected) => Assert.Equal(expected, SummarizeImages.Duration(seconds));
}
