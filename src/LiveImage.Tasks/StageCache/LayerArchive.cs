using LiveImage.Tasks.Processes;
using LiveImage.Tasks.Rootfs;

namespace LiveImage.Tasks.StageCache;

/// <summary>
/// A layer as a tar archive (zstd) that keeps what overlayfs and the image need exactly: numeric
/// owners, modes, device nodes, overlay whiteouts (character devices 0:0), extended attributes
/// (opaque directories, file capabilities) and ACLs. tar runs as the layer's owner: root, or root
/// of the build's user namespace in a rootless build (<see cref="UserNamespace"/>), the only one that
/// can read and recreate those files.
/// </summary>
internal static class LayerArchive
{
    public const string FileName = "layer.tar.zst";

    private static readonly string[] Common = ["--format=posix", "--xattrs", "--xattrs-include=*", "--acls", "--numeric-owner", "--use-compress-program=zstd -T0 -3 -q"];

    /// <summary>Archives the content of <paramref name="layer"/> into <paramref name="archive"/>.</summary>
    public static ToolCommand Create(string layer, string archive, string logPath) =>
        Command([.. Common, "--create", "--file", Path.GetFullPath(archive), "--directory", Path.GetFullPath(layer), "."], logPath);

    /// <summary>Unpacks <paramref name="archive"/> into <paramref name="layer"/>, which exists and is empty.</summary>
    public static ToolCommand Extract(string archive, string layer, string logPath) =>
        Command([.. Common, "--extract", "--same-owner", "--same-permissions", "--file", Path.GetFullPath(archive), "--directory", Path.GetFullPath(layer)], logPath);

    private static ToolCommand Command(IReadOnlyList<string> arguments, string logPath) =>
        (UserNamespace.Active
            ? UserNamespace.Command("tar", arguments)
            // tied to the build like every command in the image: a killed build leaves no tar writing on
            : new ToolCommand("setpriv", ProcessRunner.WithParentDeathSignal("tar", arguments)))
        with { LogPath = logPath, Summary = ToolCommand.Join(arguments.Prepend("tar")) };
}
