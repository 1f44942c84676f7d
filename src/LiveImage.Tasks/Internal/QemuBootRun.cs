using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace LiveImage.Tasks.Internal;

/// <summary>A command run in the booted guest after login; with no Expect it must exit with 0.</summary>
internal sealed record QemuBootCheck(string Command, string? Expect, TimeSpan? Timeout);

/// <summary>The settings shared by every boot of one BootTest.</summary>
internal sealed record QemuBootSettings(
    QemuMachine Machine,
    string QemuPath,
    string SetprivPath,
    string IsoPath,
    string ImageName,
    string AcceleratorRequest,
    int MemoryMiB,
    int Cpus,
    TimeSpan BootTimeout,
    TimeSpan StepTimeout,
    string LiveUser,
    string LivePassword,
    string LogDirectory,
    string FirmwareCode,
    string FirmwareVars,
    IReadOnlyList<QemuBootCheck> Checks);

internal sealed record QemuBootResult(QemuBootMode Mode, QemuAccel Accel, double SecondsToLogin, string SerialLog);

/// <summary>
/// Boots the ISO once in one mode and talks to it over the serial console: waits for the login
/// prompt (falling back from KVM to TCG when KVM turns out unusable), logs in, checks that the
/// user is an administrator with <c>id</c>, runs the checks. Everything it waits for has a time
/// limit; every failure is a coded <see cref="LiveImageException"/>. qemu is killed and the
/// temporary directory removed however the boot ends.
/// </summary>
internal sealed class QemuBootRun(QemuBootSettings settings, TaskLoggingHelper log, CancellationToken cancellation)
{
    /// <summary>How long the console may stay silent before the boot test types something to wake a prompt up.</summary>
    internal static readonly TimeSpan QuietTime = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

    private readonly QemuBootSettings _s = settings;

    public QemuBootResult Boot(QemuBootMode mode)
    {
        Directory.CreateDirectory(_s.LogDirectory);
        var serialLog = Path.GetFullPath(Path.Combine(_s.LogDirectory, mode.Name + ".serial.log"));
        var qemuLog = Path.GetFullPath(Path.Combine(_s.LogDirectory, mode.Name + ".qemu.log"));
        File.Delete(qemuLog);

        var accel = FirstAccelerator();
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            var probeKvm = accel == QemuAccel.Kvm && _s.AcceleratorRequest == QemuAccelerator.Auto;
            // Beside the logs (under obj/), not in /tmp: if the build is killed, 'dotnet clean' still removes it.
            var temp = new DirectoryInfo(Path.Combine(_s.LogDirectory, "." + mode.Name + ".tmp"));
            if (temp.Exists) temp.Delete(recursive: true);
            temp.Create();
            try
            {
                var varsCopy = Path.Combine(temp.FullName, "efivars.fd");
                if (mode.Firmware == QemuFirmware.Uefi) File.Copy(_s.FirmwareVars, varsCopy);
                var args = QemuCommandLine.Build(new QemuLaunch(
                    _s.Machine, mode, accel, Path.GetFullPath(_s.IsoPath), _s.MemoryMiB, _s.Cpus, _s.FirmwareCode, varsCopy));
                log.LogMessage(MessageImportance.Normal, new ToolCommand(_s.QemuPath, args).Display);

                var clock = Stopwatch.StartNew();
                using var qemu = QemuProcess.Start(_s.SetprivPath, _s.QemuPath, args, serialLog, qemuLog);
                var kvmFailure = WaitForLoginPrompt(qemu, clock, mode, accel, probeKvm, serialLog, out var position);
                if (kvmFailure is not null)
                {
                    qemu.Note("KVM unusable: " + kvmFailure + "; retrying with TCG");
                    if (QemuAccelerator.MarkUnusable(kvmFailure))
                        log.LogMessageFromResources(MessageImportance.High, "KvmUnusable", kvmFailure);
                    accel = QemuAccel.Tcg;
                    continue;
                }
                var seconds = clock.Elapsed.TotalSeconds;
                log.LogMessage(MessageImportance.Normal, $"{mode.Name}: login prompt after {seconds.ToString("0.0", CultureInfo.InvariantCulture)} s");

                position = LogIn(qemu, position, mode, serialLog);
                RunChecks(qemu, position, mode, serialLog);
                return new QemuBootResult(mode, accel, seconds, serialLog);
            }
            finally
            {
                try { temp.Delete(recursive: true); }
                catch (IOException) { /* best effort: it only holds a copy of the firmware variables */ }
            }
        }
    }

    private QemuAccel FirstAccelerator()
    {
        switch (_s.AcceleratorRequest)
        {
            case QemuAccelerator.Kvm: return QemuAccel.Kvm;
            case QemuAccelerator.Tcg: return QemuAccel.Tcg;
        }
        if (QemuAccelerator.KnownUnusableReason is { } known)
        {
            log.LogMessageFromResources(MessageImportance.Normal, "KvmUnusable", known);
            return QemuAccel.Tcg;
        }
        if (QemuAccelerator.HostProblem() is { } problem)
        {
            if (QemuAccelerator.MarkUnusable(problem))
                log.LogMessageFromResources(MessageImportance.High, "KvmUnusable", problem);
            return QemuAccel.Tcg;
        }
        return QemuAccel.Kvm;
    }

    /// <summary>
    /// Waits for the login prompt. Returns null when it came (with the position after it), or why
    /// KVM is unusable when probing it failed. Throws LIVE5001 on timeout or a fatal boot message,
    /// LIVE5005 when qemu exits first.
    /// </summary>
    private string? WaitForLoginPrompt(QemuProcess qemu, Stopwatch clock, QemuBootMode mode, QemuAccel accel, bool probeKvm, string serialLog, out int position)
    {
        var console = qemu.Console;
        var scanned = 0;
        var bannerSeen = false;
        var lastNudge = TimeSpan.Zero;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            var closed = console.IsClosed;
            var length = console.Length;
            var from = Math.Max(0, scanned - 128); // prompts may straddle two reads
            var text = console.Read(from);
            bannerSeen |= text.Contains(QemuAccelerator.KernelBanner, StringComparison.Ordinal);

            if (QemuConsoleText.Find(QemuConsoleText.LoginPrompt(), text, 0) is { } prompt)
            {
                position = from + prompt.Index + prompt.Length;
                return null;
            }
            scanned = from + text.Length;

            if (accel == QemuAccel.Kvm && QemuAccelerator.KvmFailureIn(qemu.Stderr) is { } failure)
            {
                if (probeKvm) { position = 0; return failure; }
                // Accelerator=kvm was asked for explicitly: the guest has stopped, so say so now instead of timing out.
                throw new LiveImageException("QemuFailed", "(none: the guest stopped; set Accelerator to auto or tcg)", _s.ImageName, mode.Name,
                    failure + "\n" + QemuConsoleText.Tail(qemu.Stderr, 10), serialLog);
            }
            if (probeKvm)
            {
                if (QemuAccelerator.KernelMissedProbe(clock.Elapsed, bannerSeen))
                {
                    position = 0;
                    return $"no kernel output on the serial console within {QemuAccelerator.ProbeTime.TotalSeconds:0} s";
                }
            }

            if (closed)
            {
                qemu.WaitForExit(TimeSpan.FromSeconds(10));
                var exitCode = qemu.HasExited ? qemu.ExitCode.ToString(CultureInfo.InvariantCulture) : "(unknown)";
                var output = QemuConsoleText.Tail(qemu.Stderr);
                if (output.Length == 0) output = QemuConsoleText.Tail(console.Read());
                throw new LiveImageException("QemuFailed", exitCode, _s.ImageName, mode.Name, output, serialLog);
            }

            var fatal = QemuConsoleText.Find(QemuConsoleText.FatalBootMessage(), text, 0) is not null;
            if (fatal || clock.Elapsed >= _s.BootTimeout)
            {
                if (fatal) WaitQuietly(console, TimeSpan.FromSeconds(2)); // let the panic finish printing
                var tail = QemuConsoleText.Tail(console.Read());
                if (!bannerSeen)
                    tail += (tail.Length > 0 ? "\n" : "") + "(the kernel printed nothing on the serial console: its command line needs " + _s.Machine.KernelConsole + ", and the boot menu must start it without a key press)";
                throw new LiveImageException("BootTimeout", _s.ImageName, mode.Name, Math.Round(clock.Elapsed.TotalSeconds),
                    QemuAccelerator.Name(accel), tail, serialLog);
            }

            // A kernel message can garble the prompt, and a getty can be restarted after printing it:
            // once the system has been quiet for a while, an empty line makes the getty print it again.
            if (bannerSeen && console.Idle >= QuietTime && clock.Elapsed - lastNudge >= QuietTime)
            {
                qemu.Send("\r");
                lastNudge = clock.Elapsed;
            }

            console.WaitForMore(length, Tick);
        }
    }

    private void WaitQuietly(QemuSerialConsole console, TimeSpan time)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < time && !console.IsClosed)
        {
            cancellation.ThrowIfCancellationRequested();
            console.WaitForMore(console.Length, Tick);
        }
    }

    private enum LoginPhase { UserTyped, PasswordTyped, ProbeTyped, AwaitPrompt }

    /// <summary>Logs in at the prompt and waits until a shell answers. Returns the console position after that.</summary>
    private int LogIn(QemuProcess qemu, int position, QemuBootMode mode, string serialLog)
    {
        LiveImageException Fail(string reason) =>
            new("LoginFailed", _s.ImageName, mode.Name, _s.LiveUser, reason, serialLog);

        Regex login = QemuConsoleText.LoginPrompt(), password = QemuConsoleText.PasswordPrompt(), incorrect = QemuConsoleText.LoginIncorrect(),
              shell = QemuConsoleText.ShellPromptAtEnd(), ready = QemuConsoleText.ReadyMarker();
        var rejected = 0;
        var userTyped = 0;

        void TypeUser()
        {
            if (++userTyped > 4) throw Fail("the login prompt came back again and again after typing the user name");
            qemu.Send(_s.LiveUser + "\r");
        }

        TypeUser();
        var phase = LoginPhase.UserTyped;
        while (true)
        {
            switch (phase)
            {
                case LoginPhase.UserTyped:
                {
                    var m = WaitAny(qemu, position, [password, login, incorrect], "a 'Password:' prompt after typing the user name", Fail,
                        onQuiet: () => qemu.Send("\r"));
                    position = m.End;
                    if (m.Which == 0)
                    {
                        qemu.Send(_s.LivePassword + "\r", logAs: "(the password)");
                        phase = LoginPhase.PasswordTyped;
                    }
                    else if (m.Which == 1) TypeUser();
                    else phase = Rejected(ref rejected, Fail);
                    break;
                }
                case LoginPhase.PasswordTyped:
                {
                    var m = WaitAny(qemu, position, [incorrect, shell, ready], "a shell prompt after typing the password", Fail,
                        onQuiet: () => qemu.Send(QemuConsoleText.ReadyProbe + "\r"));
                    if (m.Which == 0) { position = m.End; phase = Rejected(ref rejected, Fail); }
                    else if (m.Which == 2) return m.End;
                    else
                    {
                        // Leave position before the prompt's end so nothing after it is skipped.
                        position = m.Start;
                        qemu.Send(QemuConsoleText.ReadyProbe + "\r");
                        phase = LoginPhase.ProbeTyped;
                    }
                    break;
                }
                case LoginPhase.ProbeTyped:
                {
                    var m = WaitAny(qemu, position, [ready, incorrect], "the shell to answer after logging in", Fail,
                        onQuiet: () => qemu.Send(QemuConsoleText.ReadyProbe + "\r"));
                    position = m.End;
                    if (m.Which == 0) return m.End;
                    phase = Rejected(ref rejected, Fail);
                    break;
                }
                case LoginPhase.AwaitPrompt:
                {
                    var m = WaitAny(qemu, position, [login], "the login prompt again after 'Login incorrect'", Fail,
                        onQuiet: () => qemu.Send("\r"));
                    position = m.End;
                    TypeUser();
                    phase = LoginPhase.UserTyped;
                    break;
                }
            }
        }
    }

    /// <summary>After "Login incorrect": try once more (the typing may have been garbled), then give up.</summary>
    private static LoginPhase Rejected(ref int rejected, Func<string, LiveImageException> fail)
    {
        if (++rejected > 1) throw fail("the guest answered 'Login incorrect' twice: the user name or password is wrong (LiveUser/LivePassword), or the user does not exist in the image");
        return LoginPhase.AwaitPrompt;
    }

    private void RunChecks(QemuProcess qemu, int position, QemuBootMode mode, string serialLog)
    {
        var id = 0;
        // Built in: the live user must be an administrator (root needs no sudo).
        var isRoot = _s.LiveUser == "root";
        var expected = isRoot ? "uid=0(root)" : "(sudo)";
        var (idOutput, _) = RunCommand(qemu, ref position, "id", ++id, _s.StepTimeout, mode, serialLog);
        if (!idOutput.Contains(expected, StringComparison.Ordinal))
        {
            throw new LiveImageException("BootCheckFailed", "id", _s.ImageName, mode.Name,
                $"the user '{_s.LiveUser}' is not in the sudo group: 'id' printed '{idOutput}', which does not contain '{expected}'", serialLog);
        }

        foreach (var check in _s.Checks)
        {
            var (output, exitCode) = RunCommand(qemu, ref position, check.Command, ++id, check.Timeout ?? _s.StepTimeout, mode, serialLog);
            log.LogMessage(MessageImportance.Low, $"{mode.Name}: check '{check.Command}' exited with {exitCode}:\n{output}");
            if (!string.IsNullOrEmpty(check.Expect))
            {
                if (!output.Contains(check.Expect, StringComparison.Ordinal))
                {
                    throw new LiveImageException("BootCheckFailed", check.Command, _s.ImageName, mode.Name,
                        $"its output does not contain '{check.Expect}' (exit code {exitCode}). Output:\n{ShowOutput(output)}", serialLog);
                }
            }
            else if (exitCode != 0)
            {
                throw new LiveImageException("BootCheckFailed", check.Command, _s.ImageName, mode.Name,
                    $"it exited with code {exitCode}. Output:\n{ShowOutput(output)}", serialLog);
            }
        }
    }

    private static string ShowOutput(string output) => output.Length == 0 ? "(none)" : QemuConsoleText.Tail(output);

    private (string Output, int ExitCode) RunCommand(QemuProcess qemu, ref int position, string command, int id, TimeSpan timeout, QemuBootMode mode, string serialLog)
    {
        LiveImageException Fail(string reason) =>
            new("BootCheckFailed", command, _s.ImageName, mode.Name, reason, serialLog);

        var end = new Regex($@"LIVEIMAGE_END_{id}_\d+[\r\n]", RegexOptions.CultureInvariant);
        var start = position;
        qemu.Send(QemuShellCommand.Build(command, id) + "\r");
        var m = WaitAny(qemu, start, [end], "the end of its output", Fail, onQuiet: null, timeout);
        position = m.End;
        if (!QemuShellCommand.TryParse(qemu.Console.Read(start), 0, id, out var output, out var exitCode))
            throw Fail("its output could not be told apart from the console text (start marker missing)");
        return (output, exitCode);
    }

    private readonly record struct ConsoleMatch(int Which, int Start, int End);

    /// <summary>
    /// Waits until one of the patterns appears at or after <paramref name="from"/> (the earliest wins).
    /// When the console has been quiet for <see cref="QuietTime"/>, <paramref name="onQuiet"/> runs
    /// (to re-type something that may have been lost). Fails when qemu ends or the time is up.
    /// </summary>
    private ConsoleMatch WaitAny(QemuProcess qemu, int from, IReadOnlyList<Regex> patterns, string waitingFor,
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
            if (onQuiet is not null && console.Idle >= QuietTime && clock.Elapsed - lastQuietAction >= QuietTime)
            {
                onQuiet();
                lastQuietAction = clock.Elapsed;
            }
            console.WaitForMore(length, Tick);
        }
    }
}
