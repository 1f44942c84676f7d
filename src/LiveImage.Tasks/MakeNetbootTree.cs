using LiveImage.Tasks.Configuration;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Netboot;
using LiveImage.Tasks.Processes;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace LiveImage.Tasks;

/// <summary>
/// Writes the netboot folder (bin/&lt;Configuration&gt;/&lt;arch&gt;/netboot/): the kernel, initrd and
/// squashfs of the ISO (hard links where the file system allows), pxelinux for BIOS PXE, a GRUB
/// network image and grub.cfg for UEFI PXE, and an iPXE script. Every entry boots
/// <c>LiveArguments fetch=http://Server/filesystem.squashfs KernelArguments</c>: live-boot downloads
/// the root filesystem into RAM. The folder is written beside the old one and swapped in whole, so
/// an interrupted run never leaves a half-written folder behind.
/// An image built on another (<see cref="ModuleList"/>), or with prebuilt modules on top (<see cref="TopModules"/>),
/// is a stack of modules instead, which fetch= cannot take: <see cref="WriteStack"/> writes its files beside those
/// of other stacks that share the folder (NetbootStackMenus), and the SDK's initramfs script downloads and checks
/// the stack.
/// </summary>
public sealed class MakeNetbootTree : StageTask
{
    /// <summary>live/ of the ISO tree: vmlinuz, initrd.img, filesystem.squashfs.</summary>
    [Required] public string LiveDirectory { get; set; } = "";

    [Required] public string OutputDirectory { get; set; } = "";

    public string LogFile { get; set; } = "";

    public override string Architecture { get; set; } = "amd64";

    /// <summary>host[:port] the booted kernel fetches the squashfs from (NetbootServer).</summary>
    public string Server { get; set; } = DefaultServer;

    public string MenuTitle { get; set; } = "Debian Live";
    public string LiveArguments { get; set; } = "boot=live components";
    public string KernelArguments { get; set; } = "";
    public int MenuTimeoutSeconds { get; set; } = 5;

    /// <summary>SquashfsModules: a module stack cannot be fetched over HTTP, so this is an error (LIVE4020).</summary>
    public bool Modules { get; set; }

    /// <summary>live/filesystem.module of an image built on another: its netboot is the stack of modules it lists; empty for one squashfs.</summary>
    public string ModuleList { get; set; } = "";

    /// <summary>
    /// Prebuilt modules (LiveModule items) stacked on top, last in the manifest as the ISO lists them last; an image of
    /// one squashfs with them netboots as a stack of filesystem.squashfs and these.
    /// </summary>
    public ITaskItem[] TopModules { get; set; } = [];

    /// <summary>
    /// The names the ISO stage added to live/filesystem.module for the LiveModule items of the last build (its record):
    /// left out of the list read from it, as this stage runs before the ISO stage brings it up to date.
    /// </summary>
    public string TopModulesRecord { get; set; } = "";

    /// <summary>The image's name: the prefix of its files in a folder of stacks (ImageName).</summary>
    public string ImageName { get; set; } = "";

    /// <summary>The SDK's initramfs script (initramfs/9990-zz-liveimage-modules.sh), added to a stack's initrd.</summary>
    public string InitramfsScript { get; set; } = "";

    /// <summary>Only check the settings (run early, before the long stages).</summary>
    public bool ValidateOnly { get; set; }

    public string PxelinuxDirectory { get; set; } = "/usr/lib/PXELINUX";
    public string SyslinuxModulesDirectory { get; set; } = "/usr/lib/syslinux/modules/bios";
    public string GrubDirectory { get; set; } = "/usr/lib/grub";

    /// <summary>qemu user networking's address of the host, with the port -t:Serve uses by default.</summary>
    public const string DefaultServer = "10.0.2.2:8080";

    private protected override void ExecuteStage()
    {
        var arch = DebianArchitecture.Find(Architecture) ?? throw new LiveImageException(nameof(Strings.UnknownArchitecture), Architecture, DebianArchitecture.Names);
        if (!NetbootConfig.IsValidServer(Server)) throw new LiveImageException(nameof(Strings.InvalidNetbootServer), Server);
        if (Modules) throw new LiveImageException(nameof(Strings.NetbootNeedsOneSquashfs));
        var stack = ModuleList.Length > 0 || TopModules.Length > 0;
        if (stack) NetbootStack.Validate(Server, ImageName);
        if (ValidateOnly) return;
        if (stack)
        {
            WriteStack(arch);
            return;
        }

        High(nameof(Strings.StageStarting), "netboot", Architecture, $"netboot folder, fetch from http://{Server}/");
        var started = DateTime.UtcNow;
        var output = Path.GetFullPath(OutputDirectory).TrimEnd('/');
        // the folder is written whole: a stack of this image's own (its LiveModule items, now gone) goes with it
        if (Directory.Exists(output) && Directory.EnumerateFiles(output, "*" + NetbootManifest.Extension)
                .FirstOrDefault(f => Path.GetFileName(f) != NetbootStackMenus.Manifest(ImageName)) is { } manifest)
            throw new LiveImageException(nameof(Strings.NetbootFolderHoldsStacks), output, Path.GetFileName(manifest));
        var staging = output + ".tmp";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        try
        {
            Fill(staging, arch);
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
            Directory.Move(staging, output);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }

        Log.LogMessage(MessageImportance.High, $"netboot [{Architecture}]: {output}/ ({NetbootConfig.FetchArgument(Server)}; 'dotnet build -t:Serve' serves it)");
        High(nameof(Strings.StageFinished), "netboot", Architecture, (DateTime.UtcNow - started).TotalSeconds);
    }

    private void Fill(string dir, DebianArchitecture arch)
    {
        var live = Path.GetFullPath(LiveDirectory);
        var links = 0;
        foreach (var name in new[] { NetbootConfig.Kernel, NetbootConfig.Initrd, NetbootConfig.Squashfs })
        {
            var source = Path.Combine(live, name);
            if (!File.Exists(source)) throw new LiveImageException(nameof(Strings.NetbootInputMissing), source);
            if (FileLinks.LinkOrCopy(source, Path.Combine(dir, name))) links++;
        }
        Log.LogMessage(MessageImportance.Normal, $"netboot [{Architecture}]: kernel, initrd and squashfs {(links == 3 ? "hard-linked" : "copied")} from {live}");

        var entries = NetbootConfig.Entries(MenuTitle, LiveArguments, KernelArguments, Server);
        if (arch.HasBios)
        {
            foreach (var loader in NetbootConfig.PxelinuxLoaders) CopyHostFile(Path.Combine(PxelinuxDirectory, loader), dir);
            foreach (var module in NetbootConfig.SyslinuxModules) CopyHostFile(Path.Combine(SyslinuxModulesDirectory, module), dir);
            Write(dir, NetbootConfig.PxelinuxConfig, NetbootConfig.Pxelinux(MenuTitle, entries, MenuTimeoutSeconds));
        }
        if (arch.GrubEfiTarget is not null && arch.EfiBootFile is not null)
        {
            MakeGrubImage(arch, dir);
            Write(dir, NetbootConfig.GrubConfig, NetbootConfig.Grub(entries, MenuTimeoutSeconds));
        }
        Write(dir, NetbootConfig.IpxeScript, NetbootConfig.Ipxe(entries[0], Server));
    }

    /// <summary>This image's stack in the (possibly shared) folder, then the boot menus of every image there.</summary>
    private void WriteStack(DebianArchitecture arch)
    {
        High(nameof(Strings.StageStarting), "netboot", Architecture, $"netboot folder of the stack {ImageName}, {NetbootStackMenus.ModulesArgument(Server, ImageName)}");
        var started = DateTime.UtcNow;
        var output = Path.GetFullPath(OutputDirectory).TrimEnd('/');
        Directory.CreateDirectory(output);
        if (File.Exists(Path.Combine(output, NetbootConfig.Squashfs)) && !Directory.EnumerateFiles(output, "*" + NetbootManifest.Extension).Any())
        {
            // a fetch= folder (an image of one squashfs owns its folder): this image's own before it had LiveModule items, which it replaces
            if (ModuleList.Length > 0) throw new LiveImageException(nameof(Strings.NetbootFolderHoldsStacks), output, NetbootConfig.Squashfs);
            Directory.Delete(output, recursive: true);
            Directory.CreateDirectory(output);
        }
        using var folderLock = NetbootStack.Lock(output, CancellationToken);
        var stack = new NetbootStack(output, ImageName, Log);
        var live = Path.GetFullPath(LiveDirectory);
        var modules = stack.AddModules(Bottom(live).Concat(TopModules.Select(m => (Path.GetFullPath(m.ItemSpec), Path.GetFileName(m.ItemSpec)))));
        var script = File.ReadAllBytes(InitramfsScript);
        stack.AddBootFiles(Path.Combine(live, NetbootConfig.Kernel), Path.Combine(live, NetbootConfig.Initrd), script);
        stack.AddManifest(modules, NetbootStackMenus.Entry(ImageName, MenuTitle, LiveArguments, KernelArguments, Server));
        stack.RemoveOrphans();

        var entries = NetbootStack.Entries(output);
        if (arch.HasBios)
        {
            foreach (var loader in NetbootConfig.PxelinuxLoaders) CopyHostFile(Path.Combine(PxelinuxDirectory, loader), output);
            foreach (var module in NetbootConfig.SyslinuxModules) CopyHostFile(Path.Combine(SyslinuxModulesDirectory, module), output);
            Write(output, NetbootConfig.PxelinuxConfig, NetbootStackMenus.Pxelinux(entries, MenuTimeoutSeconds));
        }
        if (arch.GrubEfiTarget is not null && arch.EfiBootFile is not null)
        {
            MakeGrubImage(arch, output);
            Write(output, NetbootConfig.GrubConfig, NetbootStackMenus.Grub(entries, MenuTimeoutSeconds));
        }
        Write(output, NetbootConfig.IpxeScript, NetbootStackMenus.Ipxe(entries, Server, MenuTimeoutSeconds));

        var size = modules.Sum(m => m.Size) / (1024 * 1024);
        Log.LogMessage(MessageImportance.High, $"netboot [{Architecture}]: {output}/{NetbootStackMenus.Manifest(ImageName)}: {modules.Count} modules, {size} MiB; the folder's menus offer {string.Join(", ", entries.Select(e => e.Image))} ('dotnet build -t:Serve' serves it)");
        High(nameof(Strings.StageFinished), "netboot", Architecture, (DateTime.UtcNow - started).TotalSeconds);
    }

    /// <summary>
    /// The image's own modules, bottom first: filesystem.squashfs, or those live/filesystem.module lists without the
    /// LiveModule items an earlier ISO stage added to it.
    /// </summary>
    private IEnumerable<(string Source, string Name)> Bottom(string live)
    {
        if (ModuleList.Length == 0) return [(Path.Combine(live, NetbootConfig.Squashfs), NetbootConfig.Squashfs)];
        var top = TopModules.Select(m => Path.GetFileName(m.ItemSpec))
            .Concat(TopModulesRecord.Length > 0 && File.Exists(TopModulesRecord) ? File.ReadAllLines(TopModulesRecord) : [])
            .ToHashSet(StringComparer.Ordinal);
        return File.ReadAllLines(Path.GetFullPath(ModuleList)).Select(l => l.Trim()).Where(l => l.Length > 0 && !top.Contains(l))
            .Select(name => (Path.Combine(live, name), name)).ToList();
    }

    private void MakeGrubImage(DebianArchitecture arch, string dir)
    {
        var modules = Path.Combine(GrubDirectory.Length > 0 ? GrubDirectory : "/usr/lib/grub", arch.GrubEfiTarget!);
        if (!Directory.Exists(modules)) throw new LiveImageException(nameof(Strings.MissingHostFile), modules, HostTools.PackageFor(modules));
        var image = Path.Combine(dir, arch.EfiBootFile!.ToLowerInvariant());
        var result = CreateRunner().Run(new ToolCommand("grub-mkimage",
            ["-O", arch.GrubEfiTarget!, "-d", modules, "-o", image, "-p", NetbootConfig.GrubPrefix, .. NetbootConfig.GrubNetModules])
            { LogPath = LogFile.Length > 0 ? LogFile : null });
        if (result.ExitCode != 0) throw new LiveImageException(nameof(Strings.ToolFailed), "grub-mkimage", result.ExitCode, "netboot", result.TailText, result.LogPath);
    }

    private static void CopyHostFile(string path, string dir)
    {
        if (!File.Exists(path)) throw new LiveImageException(nameof(Strings.MissingHostFile), path, HostTools.PackageFor(path));
        File.Copy(path, Path.Combine(dir, Path.GetFileName(path)), overwrite: true);
    }

    private static void Write(string dir, string relative, string text)
    {
        var path = Path.Combine(dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
