using System.Globalization;
using System.Text;

namespace LiveImage.Tasks.Netboot;

/// <summary>
/// Adds files to an initramfs without rebuilding it: the kernel unpacks every cpio archive of an
/// initrd in turn (Debian's initrd already begins with an uncompressed one), so an uncompressed
/// "newc" archive put in front adds its files, and lsinitramfs/unmkinitramfs list them with the rest.
/// Directory entries come first (usr/lib/..., the real paths of a merged-/usr initramfs, whose
/// /lib is a link to usr/lib). Times and owners are fixed, so the same files give the same bytes.
/// </summary>
internal static class InitramfsAddition
{
    /// <summary>An executable file at <paramref name="path"/> (relative, e.g. usr/lib/live/boot/x.sh) in a cpio archive of its own.</summary>
    public static byte[] Archive(string path, byte[] content)
    {
        using var output = new MemoryStream();
        var inode = 1;
        var parts = path.Split('/');
        for (var i = 1; i < parts.Length; i++) Entry(output, inode++, string.Join('/', parts[..i]), 0x41ED /* dir 0755 */, []);
        Entry(output, inode++, path, 0x81ED /* file 0755 */, content);
        Entry(output, 0, "TRAILER!!!", 0, []);
        // cpio pads its archives to 512 bytes; the kernel skips the zeros before the next archive
        while (output.Length % 512 != 0) output.WriteByte(0);
        return output.ToArray();
    }

    /// <summary>Writes <paramref name="archive"/> followed by the initrd at <paramref name="initrd"/> to <paramref name="destination"/>.</summary>
    public static void Prepend(byte[] archive, string initrd, string destination)
    {
        using var output = new FileStream(destination, FileMode.Create, FileAccess.Write);
        output.Write(archive);
        using var input = File.OpenRead(initrd);
        input.CopyTo(output);
    }

    private static void Entry(Stream output, int inode, string name, int mode, byte[] data)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name + "\0");
        var fields = new[] { inode, mode, 0, 0, (mode & 0xF000) == 0x4000 ? 2 : 1, 0, data.Length, 0, 0, 0, 0, nameBytes.Length, 0 };
        var header = "070701" + string.Concat(fields.Select(f => f.ToString("X8", CultureInfo.InvariantCulture)));
        output.Write(Encoding.ASCII.GetBytes(header));
        output.Write(nameBytes);
        Pad(output);
        output.Write(data);
        Pad(output);
    }

    private static void Pad(Stream output)
    {
        while (output.Length % 4 != 0) output.WriteByte(0);
    }
}
