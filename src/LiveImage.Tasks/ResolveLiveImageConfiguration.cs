using System.Text.RegularExpressions;
using LiveImage.Tasks.Configuration;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Distributions;
using LiveImage.Tasks.Emulation;
using LiveImage.Tasks.Packages;
using LiveImage.Tasks.Processes;
using LiveImage.Tasks.Rootfs;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using NuGet.Versioning;

namespace LiveImage.Tasks;

/// <summary>
/// Checks the project's properties and items before any long work starts, and hands the
/// stages normalised values: packages and hooks filtered by architecture, hooks in file-name
/// order with their layer names, the kernel package, the root and host-tool checks.
/// </summary>
public sealed partial class ResolveLiveImageConfiguration : LiveImageTask
{
    [Required] public string Architecture { get; set; } = "";
    /// <summary>The distribution the image is built from (debian).</summary>
    public string Distribution { get; set; } = KnownDistributions.Default;
    public string Suite { get; set; } = "";
    public string ImageVersion { get; set; } = "";
    public string LiveUser { get; set; } = "";
    public string LivePassword { get; set; } = "";
    public string VolumeId { get; set; } = "";
    public string BuildMirror { get; set; } = "";
    public string ImageMirror { get; set; } = "";
    public ITaskItem[] Packages { get; set; } = [];
    /// <summary>Files of package names (live-build's package-lists/*.list.chroot); their packages join <see cref="Packages"/>.</summary>
    public ITaskItem[] PackageLists { get; set; } = [];
    /// <summary>Debconf answers: Include is the question, metadata Owner, Type and Value.</summary>
    public ITaskItem[] Debconf { get; set; } = [];
    /// <summary>Preseed files of debconf-set-selections lines.</summary>
    public ITaskItem[] DebconfFiles { get; set; } = [];
    public ITaskItem[] Hooks { get; set; } = [];
    /// <summary>Hooks for the medium: run on the staged ISO tree before xorriso.</summary>
    public ITaskItem[] BinaryHooks { get; set; } = [];
    public ITaskItem[] IncludeFiles { get; set; } = [];
    /// <summary>Files copied into the staged ISO tree before xorriso.</summary>
    public ITaskItem[] BinaryIncludeFiles { get; set; } = [];
    /// <summary>A directory of hooks outside the project that the project declares it shares (its hooks are allowed outside the project).</summary>
    public string SharedHookDirectory { get; set; } = "";
    /// <summary>Extra archives with their keys (AptSource items).</summary>
    public ITaskItem[] AptSources { get; set; } = [];
    /// <summary>A file holding the live user's password, read when the build runs so the password is never an MSBuild property.</summary>
    public string LivePasswordFile { get; set; } = "";
    /// <summary>Programs (on PATH) and absolute host files the build needs.</summary>
    public string[] RequiredHostTools { get; set; } = [];
    public bool RequireRoot { get; set; } = true;
    /// <summary>auto: root builds as root, any other user in a user namespace; root; rootless.</summary>
    public string RootMode { get; set; } = "auto";
    /// <summary>Where the rootless checks read the kernel's settings (/proc/sys); a test points it elsewhere.</summary>
    public string SysctlDirectory { get; set; } = "/proc/sys";
    /// <summary>Where the rootless checks look for newuidmap and newgidmap; empty: PATH and sbin.</summary>
    public string IdMapToolSearchPath { get; set; } = "";
    /// <summary>Lets the build mount binfmt_misc and enable qemu-user's handler for a foreign architecture while it runs, and restore them.</summary>
    public bool RegisterBinfmt { get; set; }
    /// <summary>Copy the kernel's device trees (ARM) into the ISO's /dtb.</summary>
    public bool IncludeDtb { get; set; }
    /// <summary>One device tree, relative to /usr/lib/linux-image-&lt;version&gt;/ (rockchip/rk3399-rockpro64.dtb), that GRUB loads.</summary>
    public string Dtb { get; set; } = "";
    /// <summary>Where the bootstrap unpacks GRUB's EFI modules when the host has no package for the image's architecture.</summary>
    public string GrubEfiFetchDirectory { get; set; } = "";
    /// <summary>The project's directory: hooks must live below it, and relative paths start there.</summary>
    public string ProjectDirectory { get; set; } = "";
    /// <summary>The project file: errors about its inputs point at the line that sets them; empty: at the task.</summary>
    public string ProjectFile { get; set; } = "";
    /// <summary>
    /// Check the project file for misspelt SDK properties and item wildcards that match nothing. An
    /// outer build (Architectures) does it once for all its inner builds, which then pass false.
    /// </summary>
    public bool CheckProjectFile { get; set; } = true;
    /// <summary>The SDK's .props/.targets files, where the known property names come from.</summary>
    public ITaskItem[] SdkFiles { get; set; } = [];
    /// <summary>The boot menu background; checked to be a PNG of the size isolinux shows.</summary>
    public string SplashImage { get; set; } = "";
    /// <summary>The kernel arguments for the live initramfs; empty: the distribution's.</summary>
    public string LiveArguments { get; set; } = "";

    /// <summary>How this build enters the image: 'root', or 'rootless' (a user namespace mapped to the user's subordinate ids).</summary>
    [Output] public string ResolvedRootMode { get; private set; } = "root";
    [Output] public ITaskItem[] ResolvedPackages { get; private set; } = [];
    /// <summary>Hooks in file-name order, with HookName, LayerName, RunIn, and InputFiles/InputNames from their Inputs metadata.</summary>
    [Output] public ITaskItem[] ResolvedHooks { get; private set; } = [];
    /// <summary>Every file a hook's Inputs names: the hooks stage reruns when one changes.</summary>
    [Output] public ITaskItem[] ResolvedHookInputs { get; private set; } = [];
    [Output] public ITaskItem[] ResolvedAptSources { get; private set; } = [];
    /// <summary>The debconf answers of Debconf and DebconfFile items, in that order: Include owner and question, metadata Line (debconf-set-selections' line).</summary>
    [Output] public ITaskItem[] ResolvedDebconf { get; private set; } = [];
    /// <summary>Binary hooks in file-name order, with HookName.</summary>
    [Output] public ITaskItem[] ResolvedBinaryHooks { get; private set; } = [];
    [Output] public string KernelPackage { get; private set; } = "";
    /// <summary>The distribution's packages for a live system (its live initramfs, an init), installed by the bootstrap.</summary>
    [Output] public string[] LivePackages { get; private set; } = [];
    /// <summary>LiveArguments, or the distribution's when the project sets none.</summary>
    [Output] public string ResolvedLiveArguments { get; private set; } = "";
    /// <summary>The architecture when the image's programs run through qemu-user and binfmt_misc; empty when the host runs them.</summary>
    [Output] public string EmulatedArchitecture { get; private set; } = "";
    /// <summary>The directory holding GRUB's &lt;target&gt;/ modules for the EFI boot image (/usr/lib/grub, or below GrubEfiFetchDirectory).</summary>
    [Output] public string GrubEfiDirectory { get; private set; } = "";
    /// <summary>The GRUB package the bootstrap takes from the image's archive because the host has none for this architecture; else empty.</summary>
    [Output] public string GrubEfiPackage { get; private set; } = "";
    [Output] public string ResolvedLiveUser { get; private set; } = "";
    [Output] public string ResolvedLivePassword { get; private set; } = "";
    /// <summary>The full path of LivePasswordFile, when the password comes from one (ResolvedLivePassword is then empty).</summary>
    [Output] public string ResolvedLivePasswordFile { get; private set; } = "";
    [Output] public string ResolvedImageMirror { get; private set; } = "";
    /// <summary>Where the build keeps a salted SHA-512-crypt hash of the password (mode 0600) to notice a change; empty: every run is a change.</summary>
    public string PasswordStateFile { get; set; } = "";
    /// <summary>
    /// Stands for the password in the configure stage's input cache: a random token that changes when the
    /// password does. No hash of the password, which a binary log or the cache would expose to a dictionary attack.
    /// </summary>
    [Output] public string LivePasswordGeneration { get; private set; } = "";

    /// <summary>Overridable for tests: whether the build runs as root.</summary>
    internal Func<bool> IsRoot { get; set; } = () => Environment.UserName == "root";

    /// <summary>Overridable for tests: where host tools are looked for (null: PATH and sbin).</summary>
    internal string? ToolSearchPath { get; set; }

    /// <summary>Overridable for tests: the host's Debian architecture.</summary>
    internal string HostArchitecture { get; set; } = DebianArchitecture.Host;

    /// <summary>Overridable for tests: whether the host runs an architecture's programs without emulation (arch-test -n).</summary>
    internal Func<string, bool> CanRunNatively { get; set; } = ArchTest.RunsNatively;

    /// <summary>Overridable for tests: what keeps a binfmt_misc handler from serving a build (null: ready).</summary>
    internal Func<string, BinfmtProblem?> CheckBinfmt { get; set; } = Binfmt.Check;

    /// <summary>Overridable for tests: whether a host directory exists.</summary>
    internal Func<string, bool> HostDirectoryExists { get; set; } = Directory.Exists;

    private ProjectLocations _project = ProjectLocations.None;

    protected override void ExecuteCore()
    {
        _project = ProjectLocations.Load(ProjectFile);
        // lets a build log (and a test) tell which task assembly really ran: a stale cached SDK shows here
        var assembly = typeof(ResolveLiveImageConfiguration).Assembly;
        Log.LogMessage(MessageImportance.Normal, $"LiveImage.Sdk tasks {assembly.Location} (build {assembly.ManifestModule.ModuleVersionId})");
        var arch = DebianArchitecture.Find(Architecture);
        if (arch is null) Error(Property(nameof(Architecture)), nameof(Strings.UnknownArchitecture), Architecture, DebianArchitecture.Names);
        var distribution = KnownDistributions.Find(Distribution.Length == 0 ? KnownDistributions.Default : Distribution);
        if (distribution is null) Error(Property(nameof(Distribution)), nameof(Strings.UnknownDistribution), Distribution, KnownDistributions.Names);
        CheckSuite();
        if (arch is not null && DebianSuite.IsKnown(Suite) && !ProjectInputChecks.SuiteHasArchitecture(Suite, arch.Name))
            Error(Property(nameof(Suite)), nameof(Strings.ArchitectureNotInSuite), Suite, arch.Name, ProjectInputChecks.SuitesWithArchitecture(arch.Name));
        if (CheckProjectFile) CheckProjectFileText(Log, ProjectFile, SdkFiles);
        CheckSplashImage();
        if (ImageVersion.Length > 0 && !NuGetVersion.TryParse(ImageVersion, out _)) Error(Property(nameof(ImageVersion)), nameof(Strings.InvalidImageVersion), ImageVersion);
        if (VolumeId.Length > 32) Error(Property(nameof(VolumeId)), nameof(Strings.VolumeIdTooLong), VolumeId, VolumeId.Length);
        CheckMirror(nameof(BuildMirror), BuildMirror);
        CheckMirror(nameof(ImageMirror), ImageMirror);
        ResolveUser();
        ResolvedPackages = ResolvePackages();
        ResolvedHooks = ResolveHooks();
        ResolvedBinaryHooks = ResolveBinaryHooks();
        ResolvedDebconf = ResolveDebconf();
        CheckSharedHookDirectory();
        ResolvedAptSources = ResolveAptSources();
        CheckIncludeFiles();
        if (arch is not null) CheckDeviceTrees(arch);
        if (Log.HasLoggedErrors) return;

        if (RequireRoot) ResolveRootMode();
        foreach (var (name, package) in HostTools.Missing([.. RequiredHostTools, .. ResolveArchitectureTools(arch!)], ToolSearchPath))
            Error(name.StartsWith('/') ? nameof(Strings.MissingHostFile) : nameof(Strings.MissingTool), name, package);
        // a build without root may not touch binfmt_misc: the handler must be there before any long work
        if (ResolvedRootMode == "rootless" && EmulatedArchitecture.Length > 0 && CheckBinfmt(arch!.BinfmtHandler) is { } binfmt)
            Error(nameof(Strings.RootlessBinfmtNotReady), arch.Name, HostArchitecture, arch.BinfmtHandler, binfmt.Reason, binfmt.Command);
        KernelPackage = distribution!.KernelPackage(arch!);
        LivePackages = [.. distribution.LivePackages];
        ResolvedLiveArguments = LiveArguments.Length > 0 ? LiveArguments : distribution.LiveArguments;
        ResolvedImageMirror = ImageMirror.Length > 0 ? ImageMirror : BuildMirror;
    }

    /// <summary>Root or rootless (RootMode), and for rootless every host check, each a coded error naming its fix.</summary>
    private void ResolveRootMode()
    {
        var mode = RootMode.Trim().ToLowerInvariant();
        if (mode is "" or "auto") mode = IsRoot() ? "root" : "rootless";
        if (mode is not ("root" or "rootless"))
        {
            Error(Property(nameof(RootMode)), nameof(Strings.RootModeInvalid), RootMode);
            return;
        }
        ResolvedRootMode = mode;
        if (mode == "root")
        {
            if (!IsRoot()) Error(nameof(Strings.NotRoot));
            return;
        }
        if (IsRoot())
        {
            Error(Property(nameof(RootMode)), nameof(Strings.RootlessAsRoot));
            return;
        }
        var preflight = new RootlessPreflight
        {
            User = Environment.UserName,
            Uid = SubordinateIds.CurrentUid,
            SubuidFile = SubuidFile,
            SubgidFile = SubgidFile,
            SysctlDirectory = SysctlDirectory,
            ToolSearchPath = IdMapToolSearchPath.Length > 0 ? IdMapToolSearchPath : null,
        };
        foreach (var (resource, args) in preflight.Problems()) Error(resource, args);
    }

    /// <summary>Overridable for tests: the subordinate id files.</summary>
    internal string SubuidFile { get; set; } = "/etc/subuid";
    internal string SubgidFile { get; set; } = "/etc/subgid";

    private void Error(string resource, params object[] args) => Log.LogErrorWithCodeFromResources(resource, args);

    /// <summary>An error placed at the project line that sets the input (at the task when the project does not).</summary>
    private void Error(SourceLocation? at, string resource, params object[] args) => Log.Error(at, resource, args);

    private SourceLocation? Property(string name) => _project.Property(name);

    private SourceLocation? Item(string itemType, ITaskItem item) => _project.Item(itemType, item.ItemSpec);

    /// <summary>
    /// Decides how the image's programs run and where GRUB's EFI modules come from (see
    /// <see cref="ArchitectureTools"/>), sets the outputs that say so, and returns the host tools that needs.
    /// </summary>
    internal IEnumerable<string> ResolveArchitectureTools(DebianArchitecture arch)
    {
        var resolved = ArchitectureTools.Resolve(arch, HostArchitecture, CanRunNatively, HostDirectoryExists, RegisterBinfmt, GrubEfiFetchDirectory);
        EmulatedArchitecture = resolved.EmulatedArchitecture;
        GrubEfiDirectory = resolved.GrubEfiDirectory;
        GrubEfiPackage = resolved.GrubEfiPackage;
        return resolved.Tools;
    }

    /// <summary>IncludeDtb and Dtb are for architectures whose kernels ship device trees; Dtb is a path below the kernel's dtb directory.</summary>
    private void CheckDeviceTrees(DebianArchitecture arch)
    {
        if (!IncludeDtb && Dtb.Length == 0) return;
        if (!arch.HasDeviceTrees)
        {
            Error(Property(IncludeDtb ? nameof(IncludeDtb) : nameof(Dtb)) ?? Property(nameof(Dtb)), nameof(Strings.DtbWithoutDeviceTrees), arch.Name, string.Join(", ", DebianArchitecture.All.Where(a => a.HasDeviceTrees).Select(a => a.Name)));
            return;
        }
        if (Dtb.Length > 0 && (Dtb.StartsWith('/') || !Dtb.EndsWith(".dtb", StringComparison.Ordinal) || Dtb.Split('/').Any(p => p is "" or "." or "..")))
            Error(Property(nameof(Dtb)), nameof(Strings.InvalidDtb), Dtb);
    }

    private void CheckSuite()
    {
        if (Suite.Trim().Length == 0) Error(Property(nameof(Suite)), nameof(Strings.EmptySuite), DebianSuite.Names);
        else if (!DebianSuite.IsKnown(Suite)) Error(Property(nameof(Suite)), nameof(Strings.UnknownSuite), Suite, DebianSuite.Names);
    }

    private void CheckMirror(string property, string value)
    {
        if (value.Length == 0) return;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "file"))
            Error(Property(property), nameof(Strings.InvalidMirror), property, value);
    }

    /// <summary>Accepts LiveUser="user/live" (vmdebootstrap's --user form) as well as separate properties.</summary>
    private void ResolveUser()
    {
        var user = LiveUser;
        var password = LivePassword;
        var slash = user.IndexOf('/');
        if (slash >= 0)
        {
            password = user[(slash + 1)..];
            user = user[..slash];
        }
        if (user.Length > 0 && !UserName().IsMatch(user)) Error(Property(nameof(LiveUser)), nameof(Strings.InvalidLiveUser), user);
        if (password.IndexOfAny(['\n', '\r', ':']) >= 0) Error(Property(slash >= 0 ? nameof(LiveUser) : nameof(LivePassword)), nameof(Strings.InvalidLivePassword));
        ResolvedLiveUser = user;
        if (LivePasswordFile.Length > 0)
        {
            // the file wins; its password stays out of every property and parameter
            var path = Path.GetFullPath(LivePasswordFile, ProjectDirectory.Length > 0 ? Path.GetFullPath(ProjectDirectory) : Directory.GetCurrentDirectory());
            try { password = Configuration.LivePasswordFile.Read(path); }
            catch (LiveImageException e) { Error(Property(nameof(LivePasswordFile)), e.ResourceName, e.Arguments); return; }
            ResolvedLivePasswordFile = path;
        }
        else ResolvedLivePassword = password;
        LivePasswordGeneration = PasswordStateFile.Length > 0 ? LivePasswordState.Generation(PasswordStateFile, password) : Guid.NewGuid().ToString("N");
    }

    private ITaskItem[] ResolvePackages()
    {
        var result = new List<ITaskItem>();
        foreach (var item in Packages)
        {
            if (!AppliesToArchitecture(item)) continue;
            var name = item.ItemSpec.Trim();
            // apt accepts name:arch and name=version; only the name part is checked here
            var bare = name.Split('=', ':')[0];
            if (!PackageName().IsMatch(bare)) { Error(Item("Package", item), nameof(Strings.InvalidPackageName), name); continue; }
            var resolved = new TaskItem(name);
            item.CopyMetadataTo(resolved);
            resolved.SetMetadata("Recommends", item.GetMetadata("Recommends").Equals("false", StringComparison.OrdinalIgnoreCase) ? "false" : "true");
            result.Add(resolved);
        }
        result.AddRange(ResolvePackageLists());
        return [.. result];
    }

    /// <summary>
    /// The packages of the PackageList files of this architecture, each as a Package item would be (with the
    /// list item's Recommends); a bad token or a live-build directive is an error at its file and line.
    /// </summary>
    private List<ITaskItem> ResolvePackageLists()
    {
        var result = new List<ITaskItem>();
        foreach (var list in PackageLists.Where(AppliesToArchitecture))
        {
            var path = list.GetMetadata("FullPath");
            if (!File.Exists(path)) { Error(Item("PackageList", list), nameof(Strings.PackageListMissing), list.ItemSpec, path); continue; }
            var (packages, problems) = PackageListFile.Parse(File.ReadAllLines(path));
            foreach (var p in problems)
                Error(new SourceLocation(path, p.Line), p.IsDirective ? nameof(Strings.PackageListDirective) : nameof(Strings.PackageListInvalidName), list.ItemSpec, p.Line, p.Token);
            var recommends = list.GetMetadata("Recommends").Equals("false", StringComparison.OrdinalIgnoreCase) ? "false" : "true";
            foreach (var p in packages)
            {
                var item = new TaskItem(p.Package);
                item.SetMetadata("Recommends", recommends);
                item.SetMetadata("PackageList", list.ItemSpec);
                result.Add(item);
            }
        }
        return result;
    }

    /// <summary>
    /// Debconf items (Include: the question; Owner: its first part unless set; Type; Value) and the lines of
    /// DebconfFile items, checked as debconf-set-selections would read them; errors at the item or the file's line.
    /// </summary>
    private ITaskItem[] ResolveDebconf()
    {
        var result = new List<ITaskItem>();
        foreach (var item in Debconf.Where(AppliesToArchitecture))
        {
            var question = item.ItemSpec.Trim();
            var owner = item.GetMetadata("Owner") is { Length: > 0 } o ? o.Trim() : question.Split('/')[0];
            var selection = new DebconfSelection(owner, question, item.GetMetadata("Type").Trim(), item.GetMetadata("Value"));
            if (selection.Problem() is { } problem) Error(Item("Debconf", item), nameof(Strings.DebconfInvalid), question, problem);
            else result.Add(DebconfItem(selection));
        }
        foreach (var file in DebconfFiles.Where(AppliesToArchitecture))
        {
            var path = file.GetMetadata("FullPath");
            if (!File.Exists(path)) { Error(Item("DebconfFile", file), nameof(Strings.DebconfFileMissing), file.ItemSpec, path); continue; }
            foreach (var (line, selection, problem) in DebconfSelection.ParseFile(File.ReadAllLines(path)))
            {
                if (selection is null) Error(new SourceLocation(path, line), nameof(Strings.DebconfFileInvalid), file.ItemSpec, line, problem!);
                else result.Add(DebconfItem(selection));
            }
        }
        return [.. result];
    }

    private static TaskItem DebconfItem(DebconfSelection selection)
    {
        var item = new TaskItem(selection.Owner + " " + selection.Question);
        item.SetMetadata("Line", selection.Line);
        return item;
    }

    private ITaskItem[] ResolveAptSources()
    {
        var result = new List<ITaskItem>();
        var directory = ProjectDirectory.Length > 0 ? Path.GetFullPath(ProjectDirectory) : Directory.GetCurrentDirectory();
        foreach (var item in AptSources.Where(AppliesToArchitecture))
        {
            var (entry, error, args) = AptSourceEntry.Parse(item, Suite, directory);
            if (entry is null) Error(Item("AptSource", item), error!, args);
            else if (result.Any(r => r.ItemSpec == entry.Name)) Error(Item("AptSource", item), nameof(Strings.AptSourceInvalid), entry.Name, "another AptSource has the same name");
            else result.Add(entry.ToItem());
        }
        return [.. result];
    }

    private ITaskItem[] ResolveHooks()
    {
        var ordered = Hooks.Where(AppliesToArchitecture)
            .OrderBy(h => Path.GetFileName(h.ItemSpec), StringComparer.Ordinal)
            .ToList();
        var result = new List<ITaskItem>();
        for (var i = 0; i < ordered.Count; i++)
        {
            var hook = ordered[i];
            var path = hook.GetMetadata("FullPath");
            var item = Item("Hook", hook);
            if (!CheckHookFile(hook, item)) continue;
            var runIn = hook.GetMetadata("RunIn");
            runIn = runIn.Length == 0 ? "host" : runIn.ToLowerInvariant();
            if (runIn is not ("host" or "chroot")) { Error(item, nameof(Strings.InvalidRunIn), hook.ItemSpec, hook.GetMetadata("RunIn")); continue; }
            var resolved = new TaskItem(path);
            hook.CopyMetadataTo(resolved);
            resolved.SetMetadata("RunIn", runIn);
            resolved.SetMetadata("HookName", Path.GetFileName(path));
            resolved.SetMetadata("LayerName", $"40-hook-{i + 1:D2}-{Path.GetFileNameWithoutExtension(path)}");
            var inputs = ResolveHookInputs(hook, item);
            resolved.SetMetadata("InputFiles", string.Join(';', inputs));
            // names relative to the project, for the input cache: a moved project directory is not a change
            resolved.SetMetadata("InputNames", string.Join(' ', inputs.Select(f => Path.GetRelativePath(ProjectRoot, f))));
            result.Add(resolved);
        }
        ResolvedHookInputs = [.. result.SelectMany(h => h.GetMetadata("InputFiles").Split(';', StringSplitOptions.RemoveEmptyEntries)).Distinct().Select(f => new TaskItem(f))];
        return [.. result];
    }

    /// <summary>Binary hooks: checked as hooks are, in file-name order; they always run on the host side.</summary>
    private ITaskItem[] ResolveBinaryHooks()
    {
        var result = new List<ITaskItem>();
        foreach (var hook in BinaryHooks.Where(AppliesToArchitecture).OrderBy(h => Path.GetFileName(h.ItemSpec), StringComparer.Ordinal))
        {
            if (!CheckHookFile(hook, Item("BinaryHook", hook))) continue;
            var resolved = new TaskItem(hook.GetMetadata("FullPath"));
            hook.CopyMetadataTo(resolved);
            resolved.SetMetadata("HookName", Path.GetFileName(hook.ItemSpec));
            result.Add(resolved);
        }
        foreach (var file in BinaryIncludeFiles)
            if (!File.Exists(file.GetMetadata("FullPath"))) Error(Item("BinaryIncludeFile", file), nameof(Strings.BinaryIncludeFileMissing), file.ItemSpec, file.GetMetadata("FullPath"));
        return [.. result];
    }

    /// <summary>
    /// A hook file exists, is in the project (unless the project declares it shared with AllowOutsideProject
    /// or through SharedHookDirectory), is executable and starts with '#!' without CRLF line endings. About the
    /// item: the error is at its project line; about the file itself: at the hook.
    /// </summary>
    private bool CheckHookFile(ITaskItem hook, SourceLocation? item)
    {
        var path = hook.GetMetadata("FullPath");
        if (!File.Exists(path)) { Error(item, nameof(Strings.HookMissing), hook.ItemSpec, path); return false; }
        var shared = hook.GetMetadata("AllowOutsideProject").Equals("true", StringComparison.OrdinalIgnoreCase) || IsBelow(SharedHookRoot, path);
        if (!shared && !IsBelowProject(path)) { Error(item, nameof(Strings.HookOutsideProject), hook.ItemSpec, path, Path.GetFullPath(ProjectDirectory)); return false; }
        if ((File.GetUnixFileMode(path) & UnixFileMode.UserExecute) == 0) { Error(item ?? new SourceLocation(path), nameof(Strings.HookNotExecutable), hook.ItemSpec); return false; }
        return CheckHookContent(hook.ItemSpec, path);
    }

    /// <summary>SharedHookDirectory as a full path (relative to the project), or null.</summary>
    private string? SharedHookRoot => SharedHookDirectory.Trim().Length == 0 ? null : Path.GetFullPath(SharedHookDirectory.Trim(), ProjectRoot);

    private void CheckSharedHookDirectory()
    {
        if (SharedHookRoot is { } root && !Directory.Exists(root))
            Error(Property(nameof(SharedHookDirectory)), nameof(Strings.SharedHookDirectoryMissing), SharedHookDirectory, root);
    }

    private static bool IsBelow(string? directory, string path) =>
        directory is not null && Path.GetFullPath(path).StartsWith(Path.TrimEndingDirectorySeparator(directory) + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private string ProjectRoot => ProjectDirectory.Length > 0 ? Path.GetFullPath(ProjectDirectory) : Directory.GetCurrentDirectory();

    /// <summary>
    /// The files a hook's Inputs metadata names (';'-separated paths or wildcards, relative to the project):
    /// a library it sources or data it reads, which join its key so that editing them reruns it.
    /// A pattern that matches nothing is LIVE1033, as for the project's own wildcards.
    /// </summary>
    private List<string> ResolveHookInputs(ITaskItem hook, SourceLocation? at)
    {
        var files = new List<string>();
        foreach (var pattern in hook.GetMetadata("Inputs").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var matched = Glob.Expand(ProjectRoot, pattern);
            if (matched.Count == 0) Log.Warning(at, nameof(Strings.PatternMatchesNothing), $"Hook {Path.GetFileName(hook.ItemSpec)} Inputs", pattern, ProjectRoot);
            files.AddRange(matched);
        }
        return [.. files.Distinct().Order(StringComparer.Ordinal)];
    }

    private bool IsBelowProject(string path)
    {
        if (ProjectDirectory.Length == 0) return true;
        var project = Path.TrimEndingDirectorySeparator(Path.GetFullPath(ProjectDirectory)) + Path.DirectorySeparatorChar;
        return Path.GetFullPath(path).StartsWith(project, StringComparison.Ordinal);
    }

    /// <summary>
    /// A hook is executed directly (its interpreter comes from its first line), so it needs a #!
    /// line (or to be an ELF program); CRLF line endings make the kernel look for "/bin/sh\r".
    /// </summary>
    private bool CheckHookContent(string spec, string path)
    {
        var bytes = File.ReadAllBytes(path);
        var head = bytes.AsSpan(0, Math.Min(4, bytes.Length));
        var elf = head.SequenceEqual((ReadOnlySpan<byte>)[0x7F, (byte)'E', (byte)'L', (byte)'F']);
        if (!head.StartsWith("#!"u8) && !elf)
        {
            Error(new SourceLocation(path, 1, 1), nameof(Strings.HookNoShebang), spec);
            return false;
        }
        var crlf = bytes.AsSpan().IndexOf("\r\n"u8);
        if (crlf >= 0 && !elf)
        {
            var line = 1 + bytes.AsSpan(0, crlf).Count((byte)'\n');
            Error(new SourceLocation(path, line), nameof(Strings.HookCrlf), spec, line);
            return false;
        }
        return true;
    }

    /// <summary>The project file's own checks, once per build (the outer build does them for its inner builds).</summary>
    internal static void CheckProjectFileText(TaskLoggingHelper log, string projectFile, ITaskItem[] sdkFiles)
    {
        CheckMisspeltProperties(log, projectFile, sdkFiles);
        CheckUnmatchedWildcards(log, projectFile);
    }

    /// <summary>
    /// LIVE1033: MSBuild drops a wildcard that matches no file without a word, and the files the
    /// project meant silently miss from the image. Each IncludeFile and Hook wildcard of the project
    /// is matched against the disk again, and warned about at its line when it matches nothing.
    /// </summary>
    internal static void CheckUnmatchedWildcards(TaskLoggingHelper log, string projectFile)
    {
        var project = ProjectLocations.Load(projectFile);
        var directory = Path.GetDirectoryName(Path.GetFullPath(projectFile.Length > 0 ? projectFile : "."))!;
        foreach (var type in new[] { "IncludeFile", "Hook", "PackageList", "DebconfFile", "BinaryHook", "BinaryIncludeFile" })
            foreach (var (pattern, at) in project.Wildcards(type))
                if (Glob.Expand(directory, pattern).Count == 0) log.Warning(at, nameof(Strings.PatternMatchesNothing), type, pattern, directory);
    }

    /// <summary>Warns about project properties that are not the SDK's but nearly are (Suit, LivePasword); used by the outer build too.</summary>
    internal static void CheckMisspeltProperties(TaskLoggingHelper log, string projectFile, ITaskItem[] sdkFiles)
    {
        if (projectFile.Length == 0 || !File.Exists(projectFile)) return;
        var known = ProjectInputChecks.SdkPropertyNames(sdkFiles.Select(f => f.GetMetadata("FullPath")));
        if (known.Count == 0) return;
        foreach (var m in ProjectInputChecks.MisspeltProperties(projectFile, known))
        {
            // coded like every other warning, but placed at the property's line in the project
            var code = log.ExtractMessageCode(log.FormatResourceString(nameof(Strings.MisspeltProperty), m.Name, m.Suggestion), out var text);
            log.LogWarning(null, code, null, projectFile, m.Line, m.Column, 0, 0, text);
        }
    }

    private void CheckSplashImage()
    {
        if (SplashImage.Length == 0) return;
        var path = Path.GetFullPath(SplashImage, ProjectDirectory.Length > 0 ? Path.GetFullPath(ProjectDirectory) : Directory.GetCurrentDirectory());
        var size = File.Exists(path) ? ProjectInputChecks.PngSize(path) : null;
        if (size is null)
            Error(Property(nameof(SplashImage)), nameof(Strings.SplashImageNotPng), SplashImage, File.Exists(path) ? "is not a PNG file" : "does not exist");
        else if (size.Value.Width != ProjectInputChecks.SplashWidth || size.Value.Height != ProjectInputChecks.SplashHeight)
            Log.Warning(Property(nameof(SplashImage)), nameof(Strings.SplashImageSize), SplashImage, size.Value.Width, size.Value.Height);
    }

    private void CheckIncludeFiles()
    {
        foreach (var file in IncludeFiles)
            if (!File.Exists(file.GetMetadata("FullPath"))) Error(Item("IncludeFile", file), nameof(Strings.IncludeFileMissing), file.ItemSpec);
    }

    private bool AppliesToArchitecture(ITaskItem item)
    {
        var only = item.GetMetadata("Architectures");
        return only.Length == 0 || only.Split(';', ',', ' ').Contains(Architecture);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9+.-]+$")]
    private static partial Regex PackageName();

    [GeneratedRegex("^[a-z_][a-z0-9_-]{0,31}$")]
    private static partial Regex UserName();
}
