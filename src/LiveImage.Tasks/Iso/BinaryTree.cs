using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Processes;
using LiveImage.Tasks.Rootfs;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks.Iso;

/// <summary>
/// The medium's own customisation (live-build's includes.binary and binary hooks): BinaryIncludeFile items
/// copied into the staged ISO tree, then BinaryHook items run on it (host side, the tree as $1), in a private
/// namespace as every hook. The staged tree (the squash stage's output and the boot files) is never changed:
/// the tree the hooks see is an overlay of it with a writable layer that is emptied on each run, and
/// xorriso reads that overlay in the same kind of namespace. So a removed file or hook leaves nothing behind,
/// and a hook that edits a file the squash stage wrote does not make the next run start from its edit.
/// </summary>
internal sealed class BinaryTree(string staging, string scratchDirectory, string logDirectory, Func<ToolCommand, ToolResult> run, Action<string> high)
{
    public ITaskItem[] IncludeFiles { get; init; } = [];
    public ITaskItem[] Hooks { get; init; } = [];
    /// <summary>The variables every hook gets besides $1 (LIVEIMAGE_NAME, ...).</summary>
    public Dictionary<string, string> Environment { get; init; } = [];

    public bool IsEmpty => IncludeFiles.Length == 0 && Hooks.Length == 0;

    private RootfsNamespace Namespace => new()
    {
        Lower = [staging],
        Upper = Path.Combine(scratchDirectory, "upper"),
        ScratchDirectory = Path.Combine(scratchDirectory, "ns"),
        MountSystem = false,
    };

    /// <summary>Copies the include files and runs the hooks into a fresh writable layer over the staged tree.</summary>
    public void Prepare(string logFile)
    {
        var upper = Path.Combine(scratchDirectory, "upper");
        RootfsTask.ClearDirectory(upper);
        Directory.CreateDirectory(upper);
        if (IncludeFiles.Length > 0)
        {
            var manifest = Path.Combine(scratchDirectory, "includes.manifest");
            File.WriteAllLines(manifest, IncludeFiles.Select(f => $"{f.GetMetadata("FullPath")}\t{CopyIncludeFiles.Destination(f)}"));
            var result = run(Namespace.OnHost(["/bin/sh", "-c", CopyScript], logFile, new Dictionary<string, string> { ["LIVEIMAGE_MANIFEST"] = manifest }));
            if (result.ExitCode != 0) throw new LiveImageException(nameof(Strings.ToolFailed), "copy binary include files", result.ExitCode, "iso", result.TailText, result.LogPath);
            high($"{IncludeFiles.Length} binary include file(s) copied into the ISO tree");
        }
        foreach (var hook in Hooks)
        {
            var name = hook.GetMetadata("HookName");
            var path = hook.GetMetadata("FullPath");
            var log = Path.Combine(logDirectory, $"binary-hook-{name}.log");
            if (File.Exists(log)) File.Delete(log);
            var env = new Dictionary<string, string>(Environment) { ["LIVEIMAGE_HOOK"] = name };
            var ns = Namespace;
            var started = DateTime.UtcNow;
            var result = run(ns.OnHost([path, ns.MergedDirectory], log, env));
            // at the hook's file, which is what the user edits
            if (result.ExitCode != 0)
                throw new LiveImageException(nameof(Strings.BinaryHookFailed), name, result.ExitCode, result.TailText, result.LogPath) { Location = new SourceLocation(path) };
            high($"binary hook {name} finished in {(DateTime.UtcNow - started).TotalSeconds:0.0} s");
        }
    }

    /// <summary>xorriso's command, reading the overlaid tree (its last argument) in a namespace of its own.</summary>
    public ToolCommand Xorriso(IReadOnlyList<string> argumentsBeforeTree, IReadOnlyList<string> argumentsAfterTree, string logFile)
    {
        var ns = Namespace;
        return ns.OnHost(["xorriso", .. argumentsBeforeTree, ns.MergedDirectory, .. argumentsAfterTree], logFile);
    }

    private const string CopyScript = """
        set -eu
        tab=$(printf '\t')
        while IFS=$tab read -r src dest; do
            target="$LIVEIMAGE_ROOT$dest"
            mkdir -p "$(dirname "$target")"
            cp --preserve=mode,timestamps --no-dereference "$src" "$target"
            echo "included $dest"
        done < "$LIVEIMAGE_MANIFEST"
        """;
}
