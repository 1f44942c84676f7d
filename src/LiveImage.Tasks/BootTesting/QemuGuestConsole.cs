using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using LiveImage.Tasks.Diagnostics;

namespace LiveImage.Tasks.BootTesting;

/// <summary>
/// The conversation with a booted guest over its serial console: waiting for patterns (with a time
/// limit, and a nudge when the console stays quiet) and running a command framed by markers.
/// </summary>
internal sealed class QemuGuestConsole(QemuProcess qemu, QemuBootSettings settings, QemuBootMode mode, string serialLog, CancellationToken cancellation)
{
    private readonly QemuBootSettings _s = settings;

    public QemuProcess Qemu => qemu;

    public static string ShowOutput(string output) => output.Length == 0 ? "(none)" : QemuConsoleText.Tail(output);

    /// <summary>
    /// Types a command framed by markers and waits for its end marker. With <paramref name="answerSudo"/>,
    /// sudo's password prompt (<see cref="QemuBuiltInChecks.SudoPrompt"/>) is answered with the live
    /// user's password (sudo reads it with echo off, so it never reaches the serial log); a second
    /// prompt means the password was wrong, and empty lines use up sudo's remaining tries.
    /// </summary>
    public (string Output, int ExitCode) RunCommand(ref int position, string command, int id, TimeSpan timeout,
        bool answerSudo = false, string? name = null)
    {
        LiveImageException Fail(string reason) =>
            new(nameof(Strings.BootCheckFailed), name ?? command, _s.ImageName, mode.Name, reason, serialLog);

        var end = new Regex($@"LIVEIMAGE_END_{id}_\d+(?=\D)", RegexOptions.CultureInvariant);
        var sudo = new Regex(Regex.Escape(QemuBuiltInChecks.SudoPrompt), RegexOptions.CultureInvariant);
        var start = position;
        qemu.Send(QemuShellCommand.Build(command, id) + "\r");
        var from = start;
        var prompts = 0;
        while (true)
        {
            var m = WaitAny(from, answerSudo ? [end, sudo] : [end], "the end of its output", Fail, onQuiet: null, timeout);
            if (m.Which == 0)
            {
                position = m.End;
                break;
            }
            from = m.End;
            if (++prompts > 5) throw Fail("sudo asked for the password again and again");
            if (prompts == 1) qemu.Send(_s.LivePassword + "\r", logAs: "(the password)");
            else qemu.Send("\r", logAs: "(an empty line: sudo rejected the password)");
        }
        if (!QemuShellCommand.TryParse(qemu.Console.Read(start), 0, id, out var output, out var exitCode))
            throw Fail("its output could not be told apart from the console text (start marker missing)");
        return (output, exitCode);
    }

    public readonly record struct ConsoleMatch(int Which, int Start, int End);

    /// <summary>
    /// Waits until one of the patterns appears at or after <paramref name="from"/> (the earliest wins).
    /// When the console has been quiet for <see cref="QemuBootRun.QuietTime"/>, <paramref name="onQuiet"/> runs
    /// (to re-type something that may have been lost). Fails when qemu ends or the time is up.
    /// </summary>
    public ConsoleMatch WaitAny(int from, IReadOnlyList<Regex> patterns, string waitingFor,
        Func<string, LiveImageException> fail, Action? onQuiet, TimeSpan? timeout = null)
    {
        var limit = timeout ?? _s.StepTimeout;
        var console = qemu.Console;
        var clock = Stopwatch.StartNew();
        var lastQuietAction = TimeSpan.Zero;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            var closed = console.IsClosed;
            var length = console.Length;
            var text = console.Read(from);
            ConsoleMatch? best = null;
            for (var i = 0; i < patterns.Count; i++)
            {
                var m = patterns[i].Match(text);
                if (m.Success && (best is null || from + m.Index < best.Value.Start))
                    best = new ConsoleMatch(i, from + m.Index, from + m.Index + m.Length);
            }
            if (best is { } found) return found;

            if (closed)
            {
                qemu.WaitForExit(TimeSpan.FromSeconds(10));
                var exitCode = qemu.HasExited ? qemu.ExitCode.ToString(CultureInfo.InvariantCulture) : "(unknown)";
                throw fail($"qemu exited with code {exitCode} while waiting for {waitingFor}. Last lines of the serial console:\n{QemuConsoleText.Tail(console.Read())}");
            }
            if (clock.Elapsed >= limit)
            {
                throw fail($"no sign of {waitingFor} within {limit.TotalSeconds:0} s. Last lines of the serial console:\n{QemuConsoleText.Tail(console.Read())}");
            }
            if (onQuiet is not null && console.Idle >= QemuBootRun.QuietTime && clock.Elapsed - lastQuietAction >= QemuBootRun.QuietTime)
            {
                onQuiet();
                lastQuietAction = clock.Elapsed;
            }
            console.WaitForMore(length, QemuBootRun.Tick);
        }
    }
}
