using LiveImage.Tasks.Configuration;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Iso;
using LiveImage.Tasks.Processes;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Writes the ISO-hybrid: isolinux for BIOS, a GRUB EFI image on an El Torito EFI system
/// partition, and the isohybrid MBR and GPT so the same file boots as a CD and as a USB disk.
/// The staging directory already holds live/ (kernel, initrd, squashfs).
/// </summary>
public sealed class MakeIsoHybrid : StageTask
{
    [Required] public string StagingDirectory { get; set; } = "";
    [Required] public string OutputIso { get; set; } = "";
    [Required] public string LogFile { get; set; } = "";
    public override string Architecture { get; set; } = "amd64";
    public string VolumeId { get; set; } = "DEBIAN_LIVE";
    public string MenuTitle { get; set; } = "Debian Live";
    public string LiveArguments { get; set; } = "boot=live components";
    public string KernelArguments { get; set; } = "";
    public int MenuTimeoutSeconds { get; set; } = 5;
    public string IsolinuxDirectory { get; set; } = "/usr/lib/ISOLINUX";
    public string SyslinuxModules { get; set; } = "/usr/lib/syslinux/modules/bios";
    public string GrubDirectory { get; set; } = "/usr/lib/grub";
    public string GrubFont { get; set; } = "/usr/share/grub/unicode.pf2";
    /// <summary>A PNG (640x480 suits isolinux) shown behind both boot menus; empty for none.</summary>
    public string SplashImage { get; set; } = "";
    /// <summary>BootMenuEntry items: Include is the label, metadata Title and KernelArguments.</summary>
    public ITaskItem[] MenuEntries { get; set; } = [];
    /// <summary>The installed-package list, shipped as live/filesystem.packages as live-build does.</summary>
    public string PackageManifest { get; set; } = "";
    /// <summary>Prebuilt modules (LiveModule items) stacked on top of the image's own, in this order.</summary>
    public ITaskItem[] TopModules { get; set; } = [];
    /// <summary>Where the names of the modules stacked on top last time are kept (so a removed one leaves live/); empty: none are stacked.</summary>
    public string TopModulesRecord { get; set; } = "";
    /// <summary>A device tree already staged on the medium (/dtb/&lt;Dtb&gt;) that GRUB loads with 'devicetree'; empty for none.</summary>
    public string DeviceTree { get; set; } = "";
    /// <summary>Files copied into the ISO tree (Destination metadata, else their path below the glob's base), live-build's includes.binary.</summary>
    public ITaskItem[] BinaryIncludeFiles { get; set; } = [];
    /// <summary>Hooks run on the ISO tree ($1) before xorriso, in order (metadata HookName), live-build's binary hooks.</summary>
    public ITaskItem[] BinaryHooks { get; set; } = [];
    /// <summary>Where the binary hooks' writable layer over the staged tree lives (emptied on each run).</summary>
    public string BinaryScratchDirectory { get; set; } = "";
    /// <summary>Where each binary hook's log goes (binary-hook-&lt;name&gt;.log).</summary>
    public string LogDirectory { get; set; } = "";
    // the image's metadata, for the binary hooks' environment as for the other hooks'
    public string ImageName { get; set; } = "";
    public string ImageVersion { get; set; } = "";
    public string Suite { get; set; } = "";
    public string ProjectDirectory { get; set; } = "";
    public string Configuration { get; set; } = "";
    /// <summary>
    /// The image's SOURCE_DATE_EPOCH: every date on the medium (volume, files, the FAT image's) and the
    /// identifiers derived from them (the ISO's UUID, the GPT's GUIDs, GRUB's search id) are fixed by it;
    /// empty: the clock and random ids are used.
    /// </summary>
    public string SourceDateEpoch { get; set; } = "";

    private static readonly string[] GrubModules =
    [
        "part_gpt", "part_msdos", "fat", "iso9660", "normal", "boot", "linux", "search", "search_fs_file",
        "configfile", "echo", "serial", "terminal", "efi_gop", "all_video", "gzio", "test", "ls", "cat",
        "gfxterm", "png", "font",
    ];

    /// <summary>The stage's product is its output: the stage writes it itself.</summary>
    private protected override bool WritesStamp => false;

    private protected override void ExecuteStage()
    {
        var arch = DebianArchitecture.Find(Architecture) ?? throw new LiveImageException(nameof(Strings.UnknownArchitecture), Architecture, DebianArchitecture.Names);
        High(nameof(Strings.StageStarting), "iso", Architecture, $"xorriso, volume {VolumeId}");
        var started = DateTime.UtcNow;
        var staging = Path.GetFullPath(StagingDirectory).TrimEnd('/');
        if (File.Exists(LogFile)) File.Delete(LogFile);
        if (PackageManifest.Length > 0 && File.Exists(PackageManifest))
            File.Copy(PackageManifest, Path.Combine(staging, "live", "filesystem.packages"), overwrite: true);
        if (TopModulesRecord.Length > 0)
        {
            var stack = Iso.TopModules.Stack(Path.Combine(staging, "live"),
                TopModules.Select(m => new TopModule(m.GetMetadata("FullPath"), Path.GetFileName(m.GetMetadata("FullPath")))).ToList(), TopModulesRecord);
            if (TopModules.Length > 0) Log.LogMessage(MessageImportance.High, $"iso [{Architecture}]: modules, bottom first: {string.Join(", ", stack)}");
        }
        var id = SourceDateEpoch.Length > 0 ? ReproducibleId(staging) : Guid.NewGuid().ToString("N");
        WriteDiskInfo(staging, id);
        var custom = MenuEntries.Select(e => new BootEntry(e.ItemSpec, e.GetMetadata("Title") is { Length: > 0 } t ? t : e.ItemSpec, e.GetMetadata("KernelArguments")));
        var moduleList = Path.Combine(staging, "live", "filesystem.module");
        var modules = File.Exists(moduleList) ? File.ReadLines(moduleList).Count(l => l.Trim().Length > 0) : 1;
        var entries = BootMenu.Entries(MenuTitle, BootMenu.ForStack(LiveArguments, modules), KernelArguments, custom);
        var xorriso = new List<string> { "-as", "mkisofs", "-iso-level", "3", "-full-iso9660-filenames", "-joliet", "-rational-rock", "-volid", VolumeId };
        if (arch.HasBios) xorriso.AddRange(PrepareBios(staging, entries));
        if (arch.GrubEfiTarget is not null) xorriso.AddRange(PrepareEfi(staging, arch, entries, id));
        var output = Path.GetFullPath(OutputIso);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        xorriso.AddRange(["-output", output + ".tmp"]);
        // the staged files' own times (copies made now) give way to the image's date
        string[] dating = SourceDateEpoch.Length > 0 ? ["--", "-alter_date_r", "b", "=" + SourceDateEpoch, "/", "--"] : [];
        var binary = BinaryTree(staging);
        if (binary.IsEmpty) Run(new ToolCommand("xorriso", [.. xorriso, staging, .. dating]) { LogPath = LogFile }, "xorriso");
        else
        {
            binary.Prepare(LogFile);
            Run(binary.Xorriso(xorriso, dating, LogFile), "xorriso");
        }
        File.Move(output + ".tmp", output, overwrite: true);
        High(nameof(Strings.StageFinished), "iso", Architecture, (DateTime.UtcNow - started).TotalSeconds);
    }

    private BinaryTree BinaryTree(string staging)
    {
        var scratch = Path.GetFullPath(BinaryScratchDirectory.Length > 0 ? BinaryScratchDirectory : Path.Combine(Path.GetDirectoryName(staging)!, "binary"));
        var logs = Path.GetFullPath(LogDirectory.Length > 0 ? LogDirectory : Path.GetDirectoryName(Path.GetFullPath(LogFile))!);
        return new BinaryTree(staging, scratch, logs, CreateRunner().Run, line => Log.LogMessage(MessageImportance.High, $"iso [{Architecture}]: {line}"))
        {
            IncludeFiles = BinaryIncludeFiles,
            Hooks = BinaryHooks,
            Environment = new()
            {
                ["LIVEIMAGE_NAME"] = ImageName,
                ["LIVEIMAGE_VERSION"] = ImageVersion,
                ["LIVEIMAGE_SUITE"] = Suite,
                ["LIVEIMAGE_ARCHITECTURE"] = Architecture,
                ["LIVEIMAGE_ARCH"] = Architecture,
                ["LIVEIMAGE_CONFIGURATION"] = Configuration,
                ["LIVEIMAGE_PROJECT_DIR"] = ProjectDirectory.Length > 0 ? Path.GetFullPath(ProjectDirectory) : "",
            },
        };
    }

    /// <summary>An id that is the same for the same image content and date: the volume, the epoch and the live/ files' names and sizes.</summary>
    private string ReproducibleId(string staging)
    {
        var live = Path.Combine(staging, "live");
        var files = Directory.Exists(live) ? Directory.GetFiles(live).Order(StringComparer.Ordinal).Select(f => $"{Path.GetFileName(f)}:{new FileInfo(f).Length}") : [];
        var text = string.Join('\n', new[] { VolumeId, SourceDateEpoch }.Concat(files));
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..32].ToLowerInvariant();
    }

    private static void WriteDiskInfo(string staging, string id)
    {
        var disk = Path.Combine(staging, ".disk");
        if (Directory.Exists(disk)) Directory.Delete(disk, true);
        Directory.CreateDirectory(disk);
        File.WriteAllText(Path.Combine(disk, "info"), $"LiveImage {id}\n");
        // a unique file GRUB searches for, whatever the firmware calls the medium
        File.WriteAllText(Path.Combine(disk, "id-" + id), "");
    }

    private IEnumerable<string> PrepareBios(string staging, IReadOnlyList<BootEntry> entries)
    {
        var dir = Path.Combine(staging, "isolinux");
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(IsolinuxDirectory, "isolinux.bin"), Path.Combine(dir, "isolinux.bin"), true);
        foreach (var module in new[] { "ldlinux.c32", "menu.c32", "vesamenu.c32", "libutil.c32", "libcom32.c32" })
            File.Copy(Path.Combine(SyslinuxModules, module), Path.Combine(dir, module), true);
        var splash = CopySplash(dir);
        File.WriteAllText(Path.Combine(dir, "isolinux.cfg"), BootMenu.Isolinux(MenuTitle, entries, MenuTimeoutSeconds, splash));
        return
        [
            "-isohybrid-mbr", Path.Combine(IsolinuxDirectory, "isohdpfx.bin"),
            "-eltorito-boot", "isolinux/isolinux.bin", "-eltorito-catalog", "isolinux/boot.cat",
            "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table",
        ];
    }

    private IEnumerable<string> PrepareEfi(string staging, DebianArchitecture arch, IReadOnlyList<BootEntry> entries, string id)
    {
        var grubDir = Path.Combine(staging, "boot", "grub");
        Directory.CreateDirectory(grubDir);
        var splash = CopySplash(grubDir);
        if (splash) File.Copy(GrubFont, Path.Combine(grubDir, "unicode.pf2"), true);
        File.WriteAllText(Path.Combine(grubDir, "grub.cfg"), BootMenu.Grub(entries, MenuTimeoutSeconds, splash, DeviceTree.Length > 0 ? DeviceTree : null));
        var work = Path.Combine(Path.GetDirectoryName(staging)!, "efi-work");
        Directory.CreateDirectory(work);
        var early = Path.Combine(work, "early.cfg");
        File.WriteAllText(early, $"search --no-floppy --set=root --file /.disk/id-{id}\nset prefix=($root)/boot/grub\nconfigfile $prefix/grub.cfg\n");
        var efiBinary = Path.Combine(work, arch.EfiBootFile!);
        Run(new ToolCommand("grub-mkimage",
            ["-O", arch.GrubEfiTarget!, "-d", Path.Combine(GrubDirectory, arch.GrubEfiTarget!), "-o", efiBinary, "-p", "/boot/grub", "-c", early, .. ModulesFor(Path.Combine(GrubDirectory, arch.GrubEfiTarget!))])
            { LogPath = LogFile }, "grub-mkimage");

        // the FAT image is made with mtools: no loop device or vfat driver is needed
        var efiImage = Path.Combine(grubDir, "efi.img");
        if (File.Exists(efiImage)) File.Delete(efiImage);
        var sizeKiB = (new FileInfo(efiBinary).Length / 1024) + 512;
        Run(new ToolCommand("mkfs.vfat", [.. (SourceDateEpoch.Length > 0 ? new[] { "--invariant" } : []), "-C", "-n", "EFIBOOT", efiImage, sizeKiB.ToString()]) { LogPath = LogFile }, "mkfs.vfat");
        Run(new ToolCommand("mmd", ["-i", efiImage, "::/EFI", "::/EFI/BOOT"]) { LogPath = LogFile }, "mmd");
        Run(new ToolCommand("mcopy", ["-i", efiImage, efiBinary, "::/EFI/BOOT/" + arch.EfiBootFile]) { LogPath = LogFile }, "mcopy");
        var efiTree = Path.Combine(staging, "EFI", "BOOT");
        Directory.CreateDirectory(efiTree);
        File.Copy(efiBinary, Path.Combine(efiTree, arch.EfiBootFile!), true);
        // with isolinux's isohybrid MBR the GPT comes from -isohybrid-gpt-basdat; without BIOS boot (arm64,
        // armhf) xorriso writes a GPT (and a protective MBR) whose EFI system partition is efi.img itself
        return arch.HasBios
            ? ["-eltorito-alt-boot", "-e", "boot/grub/efi.img", "-no-emul-boot", "-isohybrid-gpt-basdat"]
            : ["-eltorito-alt-boot", "-e", "boot/grub/efi.img", "-no-emul-boot", "-efi-boot-part", "--efi-boot-image", "--protective-msdos-label"];
    }

    /// <summary>
    /// The modules that exist for this GRUB target (the list is the x86 one; arm64-efi and arm-efi lack
    /// a few), and fdt for 'devicetree' when a device tree is loaded.
    /// </summary>
    internal IEnumerable<string> ModulesFor(string moduleDirectory) =>
        GrubModules.Concat(DeviceTree.Length > 0 ? ["fdt"] : [])
            .Where(m => File.Exists(Path.Combine(moduleDirectory, m + ".mod")));

    private bool CopySplash(string directory)
    {
        if (SplashImage.Length == 0) return false;
        File.Copy(SplashImage, Path.Combine(directory, BootMenu.SplashFile), true);
        return true;
    }

    private void Run(ToolCommand command, string what)
    {
        // xorriso, mkfs.vfat and mtools date what they write with SOURCE_DATE_EPOCH
        if (SourceDateEpoch.Length > 0) command = command with { Environment = new Dictionary<string, string>(command.Environment) { ["SOURCE_DATE_EPOCH"] = SourceDateEpoch } };
        var result = CreateRunner().Run(command);
        if (result.ExitCode != 0) throw new LiveImageException(nameof(Strings.ToolFailed), what, result.ExitCode, "iso", result.TailText, result.LogPath);
    }
}
