using System.Text.RegularExpressions;
using LiveImage.Tasks.Internal;
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
    public string Suite { get; set; } = "";
    public string ImageVersion { get; set; } = "";
    public string LiveUser { get; set; } = "";
    public string LivePassword { get; set; } = "";
    public string VolumeId { get; set; } = "";
    public string BuildMirror { get; set; } = "";
    public string ImageMirror { get; set; } = "";
    public ITaskItem[] Packages { get; set; } = [];
    public ITaskItem[] Hooks { get; set; } = [];
    public ITaskItem[] IncludeFiles { get; set; } = [];
    /// <summary>Programs (on PATH) and absolute host files the build needs.</summary>
    public string[] RequiredHostTools { get; set; } = [];
    public bool RequireRoot { get; set; } = true;

    [Output] public ITaskItem[] ResolvedPackages { get; private set; } = [];
    [Output] public ITaskItem[] ResolvedHooks { get; private set; } = [];
    [Output] public string KernelPackage { get; private set; } = "";
    [Output] public string ResolvedLiveUser { get; private set; } = "";
    [Output] public string ResolvedLivePassword { get; private set; } = "";
    [Output] public string ResolvedImageMirror { get; private set; } = "";
    /// <summary>Stands for the password where a change must be noticed but the password not kept (input caches).</summary>
    [Output] public string LivePasswordFingerprint { get; private set; } = "";

    /// <summary>Overridable for tests: whether the build runs as root.</summary>
    internal Func<bool> IsRoot { get; set; } = () => Environment.UserName == "root";

    /// <summary>Overridable for tests: where host tools are looked for (null: PATH and sbin).</summary>
    internal string? ToolSearchPath { get; set; }

    protected override void ExecuteCore()
    {
        // lets a build log (and a test) tell which task assembly really ran: a stale cached SDK shows here
        var assembly = typeof(ResolveLiveImageConfiguration).Assembly;
        Log.LogMessage(MessageImportance.Normal, $"LiveImage.Sdk tasks {assembly.Location} (build {assembly.ManifestModule.ModuleVersionId})");
        var arch = DebianArchitecture.Find(Architecture);
        if (arch is null) Error("UnknownArchitecture", Architecture, DebianArchitecture.Names);
        CheckSuite();
        if (ImageVersion.Length > 0 && !NuGetVersion.TryParse(ImageVersion, out _)) Error("InvalidImageVersion", ImageVersion);
        if (VolumeId.Length > 32) Error("VolumeIdTooLong", VolumeId, VolumeId.Length);
        CheckMirror(nameof(BuildMirror), BuildMirror);
        CheckMirror(nameof(ImageMirror), ImageMirror);
        ResolveUser();
        ResolvedPackages = ResolvePackages();
        ResolvedHooks = ResolveHooks();
        CheckIncludeFiles();
        if (Log.HasLoggedErrors) return;

        if (RequireRoot && !IsRoot()) Error("NotRoot");
        foreach (var (name, package) in HostTools.Missing(RequiredHostTools, ToolSearchPath))
            Error(name.StartsWith('/') ? "MissingHostFile" : "MissingTool", name, package);
        KernelPackage = arch!.KernelPackage;
        ResolvedImageMirror = ImageMirror.Length > 0 ? ImageMirror : BuildMirror;
    }

    private void Error(string resource, params object[] args) => Log.LogErrorWithCodeFromResources(resource, args);

    private void CheckSuite()
    {
        if (Suite.Trim().Length == 0) Error("EmptySuite", DebianSuite.Names);
        else if (!DebianSuite.IsKnown(Suite)) Error("UnknownSuite", Suite, DebianSuite.Names);
    }

    private void CheckMirror(string property, string value)
    {
        if (value.Length == 0) return;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "file"))
            Error("InvalidMirror", property, value);
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
        if (user.Length > 0 && !UserName().IsMatch(user)) Error("InvalidLiveUser", user);
        if (password.IndexOfAny(['\n', '\r', ':']) >= 0) Error("InvalidLivePassword");
        ResolvedLiveUser = user;
        ResolvedLivePassword = password;
        LivePasswordFingerprint = "sha256:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(password)))[..16].ToLowerInvariant();
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
            if (!PackageName().IsMatch(bare)) { Error("InvalidPackageName", name); continue; }
            var resolved = new TaskItem(name);
            item.CopyMetadataTo(resolved);
            resolved.SetMetadata("Recommends", item.GetMetadata("Recommends").Equals("false", StringComparison.OrdinalIgnoreCase) ? "false" : "true");
            result.Add(resolved);
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
            if (!File.Exists(path)) { Error("HookMissing", hook.ItemSpec, path); continue; }
            if ((File.GetUnixFileMode(path) & UnixFileMode.UserExecute) == 0) { Error("HookNotExecutable", hook.ItemSpec); continue; }
            var runIn = hook.GetMetadata("RunIn");
            runIn = runIn.Length == 0 ? "host" : runIn.ToLowerInvariant();
            if (runIn is not ("host" or "chroot")) { Error("InvalidRunIn", hook.ItemSpec, hook.GetMetadata("RunIn")); continue; }
            var resolved = new TaskItem(path);
            hook.CopyMetadataTo(resolved);
            resolved.SetMetadata("RunIn", runIn);
            resolved.SetMetadata("HookName", Path.GetFileName(path));
            resolved.SetMetadata("LayerName", $"40-hook-{i + 1:D2}-{Path.GetFileNameWithoutExtension(path)}");
            result.Add(resolved);
        }
        return [.. result];
    }

    private void CheckIncludeFiles()
    {
        foreach (var file in IncludeFiles)
            if (!File.Exists(file.GetMetadata("FullPath"))) Error("IncludeFileMissing", file.ItemSpec);
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
