using System.Runtime.InteropServices;
using System.Text;

namespace LiveImage.Tasks.Rootfs;

/// <summary>
/// A directory that a layer removed and made anew is opaque: the layers below no longer show through
/// it. Overlayfs in a user namespace (a build without root) marks it with the xattr
/// user.overlay.opaque, which the kernel's overlay at boot ignores (it reads trusted.overlay.opaque
/// only, and a user namespace may not write that). Where a layer is shipped on its own (a squashfs
/// module), each such directory gets a whiteout (a 0:0 character device, which overlayfs honours
/// wherever it mounts) for every name the layers below it hold there and the layer does not; they
/// are added as mksquashfs pseudo files, so the layer itself stays as it was built.
/// </summary>
internal static class OpaqueDirectories
{
    private const string UserOpaque = "user.overlay.opaque";

    [DllImport("libc", EntryPoint = "lgetxattr", SetLastError = true)]
    private static extern nint GetXattr([MarshalAs(UnmanagedType.LPUTF8Str)] string path, [MarshalAs(UnmanagedType.LPUTF8Str)] string name, byte[] value, nuint size);

    private static readonly EnumerationOptions Recursive = new()
    {
        RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint, ReturnSpecialDirectories = false,
    };

    private static readonly EnumerationOptions Flat = new() { IgnoreInaccessible = true, AttributesToSkip = 0 };

    /// <summary>Whether overlayfs in a user namespace marked <paramref name="directory"/> opaque.</summary>
    public static bool IsUserOpaque(string directory)
    {
        var value = new byte[8];
        return GetXattr(directory, UserOpaque, value, (nuint)value.Length) == 1 && value[0] == (byte)'y';
    }

    /// <summary>The layer's directories marked opaque by a user namespace, relative to the layer.</summary>
    public static IEnumerable<string> Find(string layer) =>
        Directory.EnumerateDirectories(layer, "*", Recursive).Where(IsUserOpaque).Select(d => Path.GetRelativePath(layer, d)).Order(StringComparer.Ordinal);

    /// <summary>
    /// The whiteouts (paths relative to the layer) that make the layer's user-namespace opaque
    /// directories opaque for any overlay: the names the layers below hold there that the layer lacks.
    /// </summary>
    public static IReadOnlyList<string> Whiteouts(string layer, IEnumerable<string> lowerLayers)
    {
        var lower = lowerLayers.ToList();
        var whiteouts = new List<string>();
        foreach (var directory in Find(layer))
        {
            var own = Names(Path.Combine(layer, directory)).ToHashSet(StringComparer.Ordinal);
            whiteouts.AddRange(lower.SelectMany(l => Names(Path.Combine(l, directory)))
                .Where(n => !own.Contains(n)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
                .Select(n => Path.Combine(directory, n)));
        }
        return whiteouts;
    }

    /// <summary>
    /// A mksquashfs pseudo file (-pf) that adds the whiteouts: character devices 0:0, mode 000, owned by
    /// root, dated <paramref name="sourceDateEpoch"/> when given (mksquashfs dates pseudo files by the
    /// clock and does not clamp them to SOURCE_DATE_EPOCH: without it the module would differ per build).
    /// </summary>
    public static string PseudoFile(IEnumerable<string> whiteouts, string sourceDateEpoch = "")
    {
        var type = sourceDateEpoch.Length > 0 ? $" C {sourceDateEpoch}" : " c";
        var text = new StringBuilder();
        foreach (var path in whiteouts) text.Append(Escape(path)).Append(type).Append(" 000 0 0 0 0\n");
        return text.ToString();
    }

    private static IEnumerable<string> Names(string directory) =>
        Directory.Exists(directory) ? Directory.EnumerateFileSystemEntries(directory, "*", Flat).Select(Path.GetFileName).OfType<string>() : [];

    /// <summary>mksquashfs reads a pseudo file's names up to white space; a backslash takes the next character as it is.</summary>
    private static string Escape(string path)
    {
        var text = new StringBuilder();
        foreach (var c in path)
        {
            if (char.IsWhiteSpace(c) || c is '\\' or '"') text.Append('\\');
            text.Append(c);
        }
        return text.ToString();
    }
}
