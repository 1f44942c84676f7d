using System.Text.RegularExpressions;

namespace LiveImage.Tasks.Diagnostics;

/// <summary>
/// A package whose maintainer script (preinst, postinst, prerm, postrm) failed, as dpkg reports it:
/// <code>
/// dpkg: error processing package foo (--configure):
///  installed foo package post-installation script subprocess returned error exit status 1
/// </code>
/// (dpkg before 1.19 wrote " subprocess installed post-installation script returned error exit status 1";
/// under emulation the script is often "killed by signal (Segmentation fault)" instead).
/// </summary>
internal sealed partial record MaintainerScriptFailure(string Package, string Script, string Outcome)
{
    /// <summary>The first failed maintainer script in a dpkg/apt/mmdebstrap log, or null.</summary>
    public static MaintainerScriptFailure? Find(string log)
    {
        foreach (Match m in Failure().Matches(log))
        {
            var package = m.Groups["pkg"].Success ? m.Groups["pkg"].Value
                : m.Groups["scriptpkg"].Success ? m.Groups["scriptpkg"].Value
                : Path.GetFileName(m.Groups["deb"].Value).Split('_')[0];
            var script = m.Groups["script"].Success ? m.Groups["script"].Value : m.Groups["oldscript"].Value;
            return new MaintainerScriptFailure(package, script, m.Groups["how"].Value);
        }
        return null;
    }

    [GeneratedRegex("""
        dpkg:\ error\ processing\ (?:package\ (?<pkg>\S+)|archive\ (?<deb>\S+))\ \(--[a-z-]+\):[ \t]*\r?\n
        [ \t]*(?:(?:installed|new|old)\ (?<scriptpkg>\S+)\ package\ (?<script>(?:pre|post)-(?:installation|removal))\ script\ subprocess
                |subprocess\ (?:(?:installed|new|old)\ )?(?<oldscript>(?:pre|post)-(?:installation|removal))\ script)
        \ (?<how>returned\ error\ exit\ status\ \d+|was\ killed\ by\ signal\ \([^)\r\n]*\))
        """, RegexOptions.IgnorePatternWhitespace)]
    private static partial Regex Failure();
}
