using LiveImage.Tasks.Processes;

namespace LiveImage.Tasks.Rootfs;

/// <summary>
/// A build without root (RootMode): everything that enters the image or reads its layers runs in a
/// user namespace where the build's user is root and the ids 1–65535 are the user's first range of
/// subordinate ids (newuidmap/newgidmap, as mmdebstrap's unshare mode maps them). Inside it the
/// files keep the owners, modes and devices a root build gives them; on disk they belong to the
/// user and its subordinate ids, so the user can remove them only through the same namespace.
/// </summary>
internal static class UserNamespace
{
    /// <summary>Whether this build runs without root (ResolveLiveImageConfiguration has checked the host for it).</summary>
    public static bool Active => SubordinateIds.CurrentUid != 0;

    /// <summary>unshare's options that add the mapped user namespace; the other namespaces it creates belong to it.</summary>
    public static IReadOnlyList<string> UnshareOptions => Active ? ["--user", "--map-auto", "--map-root-user"] : [];

    /// <summary>
    /// Runs <paramref name="program"/> as root of the mapped namespace (or as it is when the build has
    /// root), tied to the build by a parent-death signal.
    /// </summary>
    public static ToolCommand Command(string program, IReadOnlyList<string> arguments) =>
        Active
            ? new ToolCommand("setpriv", ProcessRunner.WithParentDeathSignal("unshare", [.. UnshareOptions, "--", program, .. arguments]))
            : new ToolCommand(program, arguments);

    /// <summary>
    /// Removes a directory tree that may hold files of the image's users. Without root only the
    /// namespace may: the user owns neither those files nor, in read-only directories, the right to
    /// unlink what it does own.
    /// </summary>
    public static void RemoveTree(string path)
    {
        if (!Directory.Exists(path) && !File.Exists(path)) return;
        if (!Active)
        {
            Directory.Delete(path, recursive: true);
            return;
        }
        var result = new ProcessRunner(null, CancellationToken.None).Capture(Command("rm", ["-rf", "--one-file-system", "--", Path.GetFullPath(path)]));
        if (result.ExitCode != 0 || Directory.Exists(path))
            throw new IOException($"could not remove '{path}' in the build's user namespace: {result.Error}");
    }
}
