using System.Globalization;
using System.Text.RegularExpressions;

namespace LiveImage.Tasks.BootTesting;

/// <summary>
/// A command typed into the guest's shell, framed by markers so its output and exit code can be
/// cut out of the console text. The command runs through <c>eval</c> with single quotes, so any
/// one-line command works (also one ending in ';' or '&amp;'). The markers are written with an empty
/// quote inside (<c>LIVEIMAGE''_END_3</c>), so the echo of the typed line never matches them.
/// </summary>
internal static class QemuShellCommand
{
    public static string Build(string command, int id) =>
        $"echo LIVEIMAGE''_BEGIN_{id}; eval {Quote(command)}; echo LIVEIMAGE''_END_{id}_$?";

    /// <summary>A POSIX shell single-quoted word.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>
    /// Finds the output of command <paramref name="id"/> in the console text (searching from
    /// <paramref name="from"/>); false until its end marker has arrived complete.
    /// </summary>
    public static bool TryParse(string text, int from, int id, out string output, out int exitCode)
    {
        output = "";
        exitCode = -1;
        // a marker ends at the first non-digit: kernel messages on the same console may follow it on its line
        var begin = new Regex($@"LIVEIMAGE_BEGIN_{id}(?=\D)", RegexOptions.CultureInvariant).Match(text, Math.Clamp(from, 0, text.Length));
        if (!begin.Success) return false;
        var start = begin.Index + begin.Length;
        var end = new Regex($@"LIVEIMAGE_END_{id}_(\d+)(?=\D)", RegexOptions.CultureInvariant).Match(text, start);
        if (!end.Success) return false;
        exitCode = int.Parse(end.Groups[1].Value, CultureInfo.InvariantCulture);
        output = QemuConsoleText.Clean(text[start..end.Index]).Trim('\n');
        return true;
    }
}
