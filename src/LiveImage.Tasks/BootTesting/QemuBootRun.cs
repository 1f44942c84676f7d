using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Net;
using System.Text.RegularExpressions;
using LiveImage.Tasks.Configuration;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Netboot;
using LiveImage.Tasks.Processes;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace LiveImage.Tasks.BootTesting;

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
    IReadOnlyList<QemuBootCheck> Checks)
{
    /// <summary>The netboot folder the network modes boot (null: none was built).</summary>
    public string? NetbootDirectory { get; init; }

    /// <summary>The EFI boot file in the netboot folder (netboot-uefi), e.g. bootx64.efi.</summary>
    public string? NetbootEfiFile { get; init; }

    /// <summary>Check that the live user is in the sudo group (LiveUserSudo).</summary>
    public bool LiveUserSudo { get; init; } = true;

    /// <summary>Check that root's password is locked (LockRootPassword).</summary>
    public bool LockRootPassword { get; init; } = true;

    /// <summary>The mirror the image's apt sources must name; empty: only check for build-time sources.</summary>
    public string ImageMirror { get; init; } = "";
    public IReadOnlyList<string> ImageAptSources { get; init; } = [];

    /// <summary>Take a screenshot before qemu is stopped.</summary>
    public bool Screenshots { get; init; } = true;
}

internal sealed record QemuBootResult(QemuBootMode Mode, QemuAccel Accel, double SecondsToLogin, string SerialLog)
{
    public string? Screenshot { get; init; }

    /// <summary>systemctl is-system-running after the boot finished, and the failed units.</summary>
    public string SystemState { get; init; } = "";
    public IReadOnlyList<string> FailedUnits { get; init; } = [];
}

/// <summary>
/// Boots the image once in one mode and talks to it over the serial console: waits for the login
/// prompt (falling back from KVM to TCG when KVM turns out unusable), logs in, runs the built-in
/// checks (sudo group, system state, locked root, apt sources, no policy-rc.d) and the project's
/// checks, and takes a screenshot through qemu's QMP socket before stopping qemu. The network modes
/// serve the netboot folder over HTTP on 127.0.0.1 (a port of their own) for the duration of the
/// boot, and over TFTP through qemu. Everything it waits for has a time limit; every failure is a
/// coded <see cref="LiveImageException"/>. qemu and the HTTP server are stopped and the temporary
/// directory removed however the boot ends.
/// </summary>
internal sealed class QemuBootRun(QemuBootSettings settings, TaskLoggingHelper log, CancellationToken cancellation)
{
    /// <summary>How long the console may stay silent before the boot test types something to wake a prompt up.</summary>
    internal static readonly TimeSpan QuietTime = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan ScreenshotTimeout = TimeSpan.FromSeconds(20);

    private readonly QemuBootSettings _s = settings;

    /// <summary>Where a mode's screenshot goes (qemu older than 7.1 writes a .ppm beside it instead).</summary>
    public string ScreenshotPath(QemuBootMode mode) => Path.GetFullPath(Path.Combine(_s.LogDirectory, mode.Name + ".png"));

    /// <summary>The screenshot the last boot of a mode left, or null.</summary>
    public string? ExistingScreenshot(QemuBootMode mode)
    {
        var png = ScreenshotPath(mode);
        if (File.Exists(png)) return png;
        var ppm = Path.ChangeExtension(png, ".ppm");
        return File.Exists(ppm) ? ppm : null;
    }

    public string SerialLogPath(QemuBootMode mode) => Path.GetFullPath(Path.Combine(_s.LogDirectory, mode.Name + ".serial.log"));

    public QemuBootResult Boot(QemuBootMode mode)
    {
        Directory.CreateDirectory(_s.LogDirectory);
        var serialLog = SerialLogPath(mode);
        var qemuLog = Path.GetFullPath(Path.Combine(_s.LogDirectory, mode.Name + ".qemu.log"));
        var httpLog = Path.GetFullPath(Path.Combine(_s.LogDirectory, mode.Name + ".http.log"));
        var screenshot = ScreenshotPath(mode);
        File.Delete(qemuLog);
        File.Delete(httpLog);
        File.Delete(screenshot);
        File.Delete(Path.ChangeExtension(screenshot, ".ppm"));

        var accel = FirstAccelerator();
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            var probeKvm = accel == QemuAccel.Kvm && _s.AcceleratorRequest == QemuAccelerator.Auto;
            // Beside the logs (under obj/), not in /tmp: if the build is killed, 'dotnet clean' still removes it.
            var temp = new DirectoryInfo(Path.Combine(_s.LogDirectory, "." + mode.Name + ".tmp"));
            if (temp.Exists) temp.Delete(recursive: true);
            temp.Create();
            var qmpSocket = QemuMonitor.SocketPath(temp.FullName, "qmp.sock");
            StaticHttpServer? http = null;
            StreamWriter? httpLogWriter = null;
            try
            {
                var varsCopy = Path.Combine(temp.FullName, "efivars.fd");
                if (mode.Firmware == QemuFirmware.Uefi) File.Copy(_s.FirmwareVars, varsCopy);
                string? tftp = null, bootFile = null;
                if (mode.IsNetwork)
                {
                    httpLogWriter = new StreamWriter(httpLog, append: true) { AutoFlush = true };
                    http = StartHttpServer(mode, httpLogWriter);
                    (tftp, bootFile) = StageTftp(mode, temp.FullName, http.Port);
                }
                var args = QemuCommandLine.Build(new QemuLaunch(
                    _s.Machine, mode, accel, _s.IsoPath.Length > 0 ? Path.GetFullPath(_s.IsoPath) : "", _s.MemoryMiB, _s.Cpus, _s.FirmwareCode, varsCopy,
                    tftp, bootFile, _s.Screenshots ? qmpSocket : null));
                log.LogMessage(MessageImportance.Normal, new ToolCommand(_s.QemuPath, args).Display);

                var clock = Stopwatch.StartNew();
                using var qemu = QemuProcess.Start(_s.SetprivPath, _s.QemuPath, args, serialLog, qemuLog);
                try
                {
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
                    var (state, failedUnits) = RunChecks(qemu, position, mode, serialLog);
                    return new QemuBootResult(mode, accel, seconds, serialLog) { SystemState = state, FailedUnits = failedUnits };
                }
                finally
                {
                    // what the screen shows, also (above all) when the boot failed; not when the build is being cancelled
                    if (_s.Screenshots && !cancellation.IsCancellationRequested) TakeScreenshot(qemu, qmpSocket, screenshot);
                }
            }
            finally
            {
                http?.Dispose();
                httpLogWriter?.Dispose();
                if (!qmpSocket.StartsWith(temp.FullName, StringComparison.Ordinal)) File.Delete(qmpSocket);
                try { temp.Delete(recursive: true); }
                catch (IOException) { /* best effort: it only holds a copy of the firmware variables and links to the netboot files */ }
            }
        }
    }

    private void TakeScreenshot(QemuProcess qemu, string qmpSocket, string png)
    {
        if (qemu.HasExited) return;
        try
        {
            var written = QemuMonitor.Screendump(qmpSocket, png, ScreenshotTimeout);
            qemu.Note("screenshot: " + written);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // best effort: a missing screenshot never fails the boot test
            qemu.Note("no screenshot: " + e.Message);
            log.LogMessage(MessageImportance.Normal, $"no screenshot of the guest's screen: {e.Message}");
        }
    }

    /// <summary>Serves the netboot folder on 127.0.0.1, on a port the system picks (so parallel boots never collide).</summary>
    private StaticHttpServer StartHttpServer(QemuBootMode mode, StreamWriter httpLog)
    {
        var folder = _s.NetbootDirectory ?? throw new LiveImageException("NetbootMissing", mode.Name);
        if (!Directory.Exists(folder)) throw new LiveImageException("NetbootMissing", mode.Name);
        var gate = new object();
        try
        {
            var server = StaticHttpServer.Start(folder, IPAddress.Loopback, 0, line =>
            {
                lock (gate) httpLog.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
            });
            lock (gate) httpLog.WriteLine($"serving {folder} at http://127.0.0.1:{server.Port}/ (the guest: http://{QemuCommandLine.HostAddress}:{server.Port}/)");
            return server;
        }
        catch (SocketException e)
        {
            throw new LiveImageException("ServeFailed", "127.0.0.1:0", e.Message);
        }
    }

    /// <summary>
    /// The TFTP root qemu serves: links to the netboot folder's files, with the boot loader
    /// configurations pointing fetch= at the test's HTTP server instead of NetbootServer.
    /// Returns the directory and the boot file the firmware asks DHCP for.
    /// </summary>
    private (string Directory, string BootFile) StageTftp(QemuBootMode mode, string temp, int port)
    {
        var folder = Path.GetFullPath(_s.NetbootDirectory!);
        var (bootFile, config) = mode.Firmware == QemuFirmware.Uefi
            ? (_s.NetbootEfiFile ?? "", NetbootConfig.GrubConfig)
            : ("pxelinux.0", NetbootConfig.PxelinuxConfig);
        foreach (var required in new[] { bootFile, config, NetbootConfig.Kernel, NetbootConfig.Initrd, NetbootConfig.Squashfs })
        {
            if (required.Length == 0 || !File.Exists(Path.Combine(folder, required)))
                throw new LiveImageException("NetbootMissing", mode.Name + $" ({Path.Combine(folder, required)} is missing)");
        }
        var tftp = Path.Combine(temp, "tftp");
        var server = $"{QemuCommandLine.HostAddress}:{port}";
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(folder, file);
            if (relative == NetbootConfig.Squashfs) continue; // over HTTP only
            var target = Path.Combine(tftp, relative);
            if (relative is NetbootConfig.PxelinuxConfig or NetbootConfig.GrubConfig or NetbootConfig.IpxeScript)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.WriteAllText(target, NetbootConfig.WithServer(File.ReadAllText(file), server));
            }
            else
            {
                FileLinks.LinkOrCopy(file, target);
            }
        }
        return (tftp, bootFile);
    }

    private QemuAccel FirstAccelerator()
    {
        switch (_s.AcceleratorRequest)
        {
            case QemuAccelerator.Kvm: return QemuAccel.Kvm;
            case QemuAccelerator.Tcg: return QemuAccel.Tcg;
        }
        // KVM runs guests of the host's own architecture only (qemu-system-aarch64 on amd64: "invalid accelerator kvm")
        if (!_s.Machine.KvmHosts.Contains(DebianArchitecture.Host)) return QemuAccel.Tcg;
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
        var aliveSeen = false;
        var lastNudge = TimeSpan.Zero;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            var closed = console.IsClosed;
            var length = console.Length;
            var from = Math.Max(0, scanned - 128); // prompts may straddle two reads
            var text = console.Read(from);
            bannerSeen |= text.Contains(QemuAccelerator.KernelBanner, StringComparison.Ordinal);
            // a network boot spends a while loading the kernel over TFTP: its loader's banner shows that the CPU runs
            aliveSeen |= bannerSeen || (mode.IsNetwork && QemuConsoleText.Find(QemuConsoleText.NetworkLoaderBanner(), text, 0) is not null);

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
                if (QemuAccelerator.KernelMissedProbe(clock.Elapsed, aliveSeen))
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

    /// <summary>Runs the built-in checks, then the project's; returns the system state and failed units.</summary>
    private (string State, IReadOnlyList<string> FailedUnits) RunChecks(QemuProcess qemu, int position, QemuBootMode mode, string serialLog)
    {
        var id = 0;
        LiveImageException Failed(string check, string reason) =>
            new("BootCheckFailed", check, _s.ImageName, mode.Name, reason, serialLog);

        // Built in: the live user must be an administrator (root needs no sudo).
        var isRoot = _s.LiveUser == "root";
        var expected = isRoot ? "uid=0(root)" : "(sudo)";
        var (idOutput, _) = RunCommand(qemu, ref position, "id", ++id, _s.StepTimeout, mode, serialLog);
        if ((_s.LiveUserSudo || isRoot) && !idOutput.Contains(expected, StringComparison.Ordinal))
        {
            throw Failed("id", $"the user '{_s.LiveUser}' is not in the sudo group: 'id' printed '{idOutput}', which does not contain '{expected}'");
        }

        // Built in: root cannot log in with a password (first: it answers sudo's prompt, which sudo then remembers).
        var viaSudo = _s.LiveUserSudo && !isRoot;
        if (_s.LockRootPassword && !isRoot)
        {
            const string rootCheck = "root password locked";
            if (!viaSudo)
            {
                log.LogMessage(MessageImportance.Normal, $"{mode.Name}: '{rootCheck}' not checked: the live user has no sudo (LiveUserSudo=false) to read /etc/shadow");
            }
            else
            {
                var (shadow, code) = RunCommand(qemu, ref position, QemuBuiltInChecks.RootShadowCommand, ++id, _s.StepTimeout, mode, serialLog,
                    answerSudo: true, name: rootCheck);
                var locked = QemuBuiltInChecks.RootPasswordIsLocked(shadow);
                if (locked is null)
                    throw Failed(rootCheck, $"root's entry in /etc/shadow could not be read with sudo (exit code {code}; is LivePassword right?). Output:\n{ShowOutput(shadow)}");
                if (locked == false)
                    throw Failed(rootCheck, "root has a usable password although LockRootPassword is true (its /etc/shadow hash does not start with '!' or '*')");
            }
        }

        // Built in: the boot finished, with no unit failed (degraded passes, with the failed units named).
        const string stateCheck = "systemctl is-system-running";
        var wait = QemuBuiltInChecks.SystemStateWaitSeconds(_s.BootTimeout);
        var (stateOutput, _) = RunCommand(qemu, ref position, QemuBuiltInChecks.SystemStateCommand(viaSudo, wait), ++id,
            QemuBuiltInChecks.SystemStateTimeout(wait), mode, serialLog, answerSudo: viaSudo, name: stateCheck);
        var (state, failedUnits) = QemuBuiltInChecks.ParseSystemState(stateOutput);
        var units = failedUnits.Count == 0 ? "none" : string.Join(", ", failedUnits);
        if (!isRoot && !viaSudo && QemuBuiltInChecks.NoBus(stateOutput))
        {
            log.LogMessage(MessageImportance.Normal, $"{mode.Name}: '{stateCheck}' not checked: without sudo (LiveUserSudo=false) the live user needs D-Bus to ask systemd, and the image has none");
        }
        else if (!QemuBuiltInChecks.SystemStateIsAcceptable(state))
        {
            throw Failed(stateCheck, $"the system is '{(state.Length == 0 ? $"(no answer: still starting after {wait} s?)" : state)}', not running or degraded; failed units: {units}. Output:\n{ShowOutput(stateOutput)}");
        }
        else if (state == "degraded") log.LogMessageFromResources(MessageImportance.High, "BootDegraded", _s.ImageName, _s.Machine.Architecture, mode.Name, units);
        else log.LogMessage(MessageImportance.Normal, $"{mode.Name}: system {state}");

        // Built in: apt in the image uses the image mirror only, nothing of the build.
        const string aptCheck = "apt sources";
        var (sourcesOutput, _) = RunCommand(qemu, ref position, QemuBuiltInChecks.AptSourcesCommand, ++id, _s.StepTimeout, mode, serialLog, name: aptCheck);
        var problems = QemuBuiltInChecks.AptSourceProblems(QemuBuiltInChecks.ParseAptSources(sourcesOutput), _s.ImageMirror, _s.ImageAptSources);
        if (problems.Count > 0)
        {
            throw Failed(aptCheck, (_s.ImageMirror.Length > 0 ? $"the image must use only ImageMirror '{_s.ImageMirror}': " : "the image has build-time apt sources: ")
                + string.Join("; ", problems));
        }

        // Built in: daemons may start (the build's policy-rc.d is gone).
        const string policyCheck = "no /usr/sbin/policy-rc.d";
        var (_, policyCode) = RunCommand(qemu, ref position, QemuBuiltInChecks.PolicyRcDCommand, ++id, _s.StepTimeout, mode, serialLog, name: policyCheck);
        if (policyCode != 0)
            throw Failed(policyCheck, "/usr/sbin/policy-rc.d is still in the image, so package scripts cannot start daemons; the finalize stage removes it: rebuild, and do not add it in a hook");

        foreach (var check in _s.Checks)
        {
            var (output, exitCode) = RunCommand(qemu, ref position, check.Command, ++id, check.Timeout ?? _s.StepTimeout, mode, serialLog);
            log.LogMessage(MessageImportance.Low, $"{mode.Name}: check '{check.Command}' exited with {exitCode}:\n{output}");
            if (!string.IsNullOrEmpty(check.Expect))
            {
                if (!output.Contains(check.Expect, StringComparison.Ordinal))
                {
                    throw Failed(check.Command, $"its output does not contain '{check.Expect}' (exit code {exitCode}). Output:\n{ShowOutput(output)}");
                }
            }
            else if (exitCode != 0)
            {
                throw Failed(check.Command, $"it exited with code {exitCode}. Output:\n{ShowOutput(output)}");
            }
        }
        return (state, failedUnits);
    }

    private static string ShowOutput(string output) => output.Length == 0 ? "(none)" : QemuConsoleText.Tail(output);

    /// <summary>
    /// Types a command framed by markers and waits for its end marker. With <paramref name="answerSudo"/>,
    /// sudo's password prompt (<see cref="QemuBuiltInChecks.SudoPrompt"/>) is answered with the live
    /// user's password (sudo reads it with echo off, so it never reaches the serial log); a second
    /// prompt means the password was wrong, and empty lines use up sudo's remaining tries.
    /// </summary>
    private (string Output, int ExitCode) RunCommand(QemuProcess qemu, ref int position, string command, int id, TimeSpan timeout,
        QemuBootMode mode, string serialLog, bool answerSudo = false, string? name = null)
    {
        LiveImageException Fail(string reason) =>
            new("BootCheckFailed", name ?? command, _s.ImageName, mode.Name, reason, serialLog);

        var end = new Regex($@"LIVEIMAGE_END_{id}_\d+(?=\D)", RegexOptions.CultureInvariant);
        var sudo = new Regex(Regex.Escape(QemuBuiltInChecks.SudoPrompt), RegexOptions.CultureInvariant);
        var start = position;
        qemu.Send(QemuShellCommand.Build(command, id) + "\r");
        var from = start;
        var prompts = 0;
        while (true)
        {
            var m = WaitAny(qemu, from, answerSudo ? [end, sudo] : [end], "the end of its output", Fail, onQuiet: null, timeout);
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
