using System.Text.RegularExpressions;
using LiveImage.Tasks.Processes;

namespace LiveImage.Tasks.BootTesting;

/// <summary>
/// What the boot test looks for on the serial console, as pure functions of its text: prompts,
/// the readiness probe and a readable tail for error messages. Kernel messages may be mixed in at
/// any point, so nothing here assumes a prompt is alone on its line.
/// </summary>
internal static partial class QemuConsoleText
{
    /// <summary>A getty login prompt ("debian login: "), not "Last login: ..." after a login.</summary>
    [GeneratedRegex(@"(?<![Ll]ast )login: ?", RegexOptions.CultureInvariant)]
    public static partial Regex LoginPrompt();

    [GeneratedRegex(@"[Pp]assword: ?", RegexOptions.CultureInvariant)]
    public static partial Regex PasswordPrompt();

    /// <summary>login(1)'s answer to a wrong user name or password.</summary>
    [GeneratedRegex(@"Login incorrect", RegexOptions.CultureInvariant)]
    public static partial Regex LoginIncorrect();

    /// <summary>
    /// Typed to find out whether a shell is reading: the shell joins <c>LIVEIMAGE''_READY</c> into the
    /// marker, while the echo of what was typed still shows the quotes, so only a shell's output matches.
    /// </summary>
    public const string ReadyProbe = "echo LIVEIMAGE''_READY";

    [GeneratedRegex(@"LIVEIMAGE_READY[\r\n]", RegexOptions.CultureInvariant)]
    public static partial Regex ReadyMarker();

    /// <summary>The console text ends like an interactive shell prompt ("user@host:~$ ", "root@host:~# "), possibly followed by terminal codes.</summary>
    [GeneratedRegex(@"[$#] ?(?:\x1B\[[0-9;?]*[A-Za-z])*\z", RegexOptions.CultureInvariant)]
    public static partial Regex ShellPromptAtEnd();

    /// <summary>Messages after which the boot cannot reach a login prompt any more (kernel panic, live-boot's rescue shell).</summary>
    [GeneratedRegex(@"Kernel panic - not syncing|Unable to find a medium containing a live file system|\(initramfs\) ", RegexOptions.CultureInvariant)]
    public static partial Regex FatalBootMessage();

    /// <summary>
    /// A kernel crash report: under TCG an SMP guest's kernel can trip over qemu's emulation while it patches its
    /// own code (an "Oops: int3" in the first seconds), which a second boot of the same image does not repeat.
    /// </summary>
    [GeneratedRegex(@"(?:Oops: |BUG: |general protection fault)[^\r\n]*", RegexOptions.CultureInvariant)]
    public static partial Regex KernelCrash();

    /// <summary>The SDK's initramfs script stopping the netboot of a stack (initramfs/9990-zz-liveimage-modules.sh): the whole line.</summary>
    [GeneratedRegex(@"liveimage\.modules: error: [^\r\n]*", RegexOptions.CultureInvariant)]
    public static partial Regex ModulesError();

    /// <summary>Of those, a module that arrived and is not the one its manifest describes.</summary>
    [GeneratedRegex(@"failed its check|the manifest expects", RegexOptions.CultureInvariant)]
    public static partial Regex ModuleCheckFailure();

    /// <summary>What the network boot loaders print on the serial console before loading the kernel (pxelinux, GRUB).</summary>
    [GeneratedRegex(@"PXELINUX \d|GNU GRUB|Welcome to GRUB", RegexOptions.CultureInvariant)]
    public static partial Regex NetworkLoaderBanner();

    [GeneratedRegex(@"\x1B(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1B]*(?:\x07|\x1B\\)|[ -/]*[0-~])", RegexOptions.CultureInvariant)]
    private static partial Regex TerminalCode();

    [GeneratedRegex(@"[\x00-\x08\x0B-\x1F\x7F]", RegexOptions.CultureInvariant)]
    private static partial Regex ControlCharacter();

    /// <summary>The first match of <paramref name="pattern"/> at or after <paramref name="from"/>, or null.</summary>
    public static Match? Find(Regex pattern, string text, int from)
    {
        var m = pattern.Match(text, Math.Clamp(from, 0, text.Length));
        return m.Success ? m : null;
    }

    /// <summary>The text without terminal escape sequences, carriage returns and other control characters (newlines and tabs stay).</summary>
    public static string Clean(string text) => ControlCharacter().Replace(TerminalCode().Replace(text, ""), "");

    /// <summary>The last non-empty lines of the text, cleaned, for error messages.</summary>
    public static string Tail(string text, int lines = ProcessRunner.TailLines)
    {
        var all = Clean(text).Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToArray();
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }
}
