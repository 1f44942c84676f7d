using System.Runtime.InteropServices;

namespace LiveImage.Tasks.Netboot;

/// <summary>Hard links, falling back to a copy where the file system cannot link (another device, no permission).</summary>
internal static class FileLinks
{
    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);

    /// <summary>
    /// Makes <paramref name="destination"/> a hard link to <paramref name="source"/> (replacing what was
    /// there), or a copy when linking fails. True when it is a link.
    /// </summary>
    public static bool LinkOrCopy(string source, string destination)
    {
        if (File.Exists(destination) || Directory.Exists(destination)) File.Delete(destination);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
        if (Link(source, destination) == 0) return true;
        File.Copy(source, destination, overwrite: true);
        return false;
    }
}
