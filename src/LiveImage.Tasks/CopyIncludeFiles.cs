using LiveImage.Tasks.Rootfs;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Copies IncludeFile items into the image (live-build's includes.chroot), keeping their
/// modes (or the Mode metadata's); owned by root unless Owner metadata says otherwise. The destination is the
/// Destination metadata, else the item's path below its glob's base (RecursiveDir).
/// </summary>
public sealed class CopyIncludeFiles : RootfsStageTask
{
    public ITaskItem[] Files { get; set; } = [];

    protected override void RunStage()
    {
        High(nameof(Strings.StageStarting), StageName, Architecture, $"{Files.Length} file(s)");
        if (Files.Length == 0) return;
        // a manifest of source, destination, owner lines read by the copying shell in the namespace
        var manifest = Path.Combine(Path.GetFullPath(ScratchDirectory), "includes.manifest");
        Directory.CreateDirectory(Path.GetDirectoryName(manifest)!);
        File.WriteAllLines(manifest, Files.Select(f => $"{f.GetMetadata("FullPath")}\t{Destination(f)}\t{Owner(f)}\t{f.GetMetadata("Mode")}"));
        var env = new Dictionary<string, string> { ["LIVEIMAGE_MANIFEST"] = manifest };
        RunChecked(Namespace(system: false).OnHost(["/bin/sh", "-c", Script], LogFile, env), "copy include files");
    }

    internal static string Destination(ITaskItem file)
    {
        var explicitPath = file.GetMetadata("Destination");
        var relative = explicitPath.Length > 0
            ? explicitPath
            : file.GetMetadata("RecursiveDir") + Path.GetFileName(file.ItemSpec);
        return "/" + relative.Replace('\\', '/').TrimStart('/');
    }

    private static string Owner(ITaskItem file) => file.GetMetadata("Owner") is { Length: > 0 } o ? o : "0:0";

    private const string Script = """
        set -eu
        tab=$(printf '\t')
        while IFS=$tab read -r src dest owner mode; do
            target="$LIVEIMAGE_ROOT$dest"
            mkdir -p "$(dirname "$target")"
            cp --preserve=mode,timestamps --no-dereference "$src" "$target"
            chown -h "$owner" "$target"
            if [ -n "$mode" ]; then chmod "$mode" "$target"; fi
            echo "included $dest"
        done < "$LIVEIMAGE_MANIFEST"
        """;
}
