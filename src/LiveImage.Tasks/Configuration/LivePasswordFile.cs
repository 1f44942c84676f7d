using LiveImage.Tasks.Diagnostics;

namespace LiveImage.Tasks.Configuration;

/// <summary>
/// The live user's password kept in a file (LivePasswordFile), like mkosi's mkosi.rootpw: the tasks
/// read it while they run, so it never becomes an MSBuild property, a task parameter or a log line,
/// and a binary log (-bl) never holds it.
/// </summary>
internal static class LivePasswordFile
{
    /// <summary>The file's first line; LIVE1024 when the file is missing, empty or the line unusable.</summary>
    public static string Read(string path)
    {
        if (!File.Exists(path)) throw new LiveImageException(nameof(Strings.LivePasswordFileInvalid), path, "does not exist");
        var line = File.ReadLines(path).FirstOrDefault() ?? "";
        line = line.TrimEnd('\r');
        if (line.Length == 0) throw new LiveImageException(nameof(Strings.LivePasswordFileInvalid), path, "is empty (its first line is the password)");
        if (line.Contains(':')) throw new LiveImageException(nameof(Strings.LivePasswordFileInvalid), path, "holds a colon in its first line, which chpasswd cannot take");
        return line;
    }
}
