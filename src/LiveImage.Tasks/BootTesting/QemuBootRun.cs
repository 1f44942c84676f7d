using System.Diagnostics;
using System.Globalization;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Netboot;
using LiveImage.Tasks.Processes;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace LiveImage.Tasks.BootTesting;

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

    internal static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

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

    /// <summary>The guest checks of the last boot (which passed, which failed), or null when it never logged in.</summary>
    public QemuGuestChecks? LastChecks { get; private set; }

    public QemuBootResult Boot(QemuBootMode mode)
    {
        LastChecks = null;
        Directory.CreateDirectory(_s.LogDirectory);
        var serialLog = SerialLogPath(mode);
        var qemuLog = Path.GetFullPath(Path.Combine(_s.LogDirectory, mode.Name + ".qemu.log"));
        var httpLog = Path.GetFullPath(Path.Combine(_s.LogDirectory, mode.Name + ".http.log"));
        var screenshot = ScreenshotPath(mode);
        File.Delete(qemuLog);
        File.Delete(httpLog);
        File.Delete(screenshot);
        File.Delete(Path.ChangeExtension(screenshot, ".ppm"));

        var accel = QemuKvmFallback.FirstAccelerator(_s, log);
        var tcgRetried = false;
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
                    http = QemuNetbootStaging.StartHttpServer(_s, mode, httpLogWriter);
                    (tftp, bootFile) = QemuNetbootStaging.StageTftp(_s, mode, temp.FullName, http.Port);
                }
                var args = QemuCommandLine.Build(new QemuLaunch(
                    _s.Machine, mode, accel, _s.IsoPath.Length > 0 ? Path.GetFullPath(_s.IsoPath) : "", _s.MemoryMiB, _s.Cpus, _s.FirmwareCode, varsCopy,
                    tftp, bootFile, _s.Screenshots ? qmpSocket : null)
                    { Writable = _s.DiskWritable, ExtraDisk = _s.ExtraDisk });
                log.LogMessage(MessageImportance.Normal, new ToolCommand(_s.QemuPath, args).Display);

                var clock = Stopwatch.StartNew();
                using var qemu = QemuProcess.Start(_s.SetprivPath, _s.QemuPath, args, serialLog, qemuLog);
                try
                {
                    var retryReason = WaitForLoginPrompt(qemu, clock, mode, accel, probeKvm, !tcgRetried, serialLog, out var position);
                    if (retryReason is not null && accel == QemuAccel.Tcg)
                    {
                        tcgRetried = true;
                        qemu.Note(retryReason + "; booting once more");
                        log.LogMessage(MessageImportance.High, $"{mode.Name}: {retryReason}; booting once more");
                        continue;
                    }
                    if (retryReason is not null)
                    {
                        accel = QemuKvmFallback.FallBack(qemu, retryReason, log);
                        continue;
                    }
                    var seconds = clock.Elapsed.TotalSeconds;
                    log.LogMessage(MessageImportance.Normal, $"{mode.Name}: login prompt after {seconds.ToString("0.0", CultureInfo.InvariantCulture)} s");

                    var guest = new QemuGuestConsole(qemu, _s, mode, serialLog, cancellation);
                    position = new QemuLogin(guest, _s, mode, serialLog).LogIn(position);
                    LastChecks = new QemuGuestChecks(guest, _s, mode, serialLog, log);
                    var (state, failedUnits) = LastChecks.RunChecks(position);
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

    private const string ExplicitKvmFailed = "under KVM before the kernel started; KVM cannot run this guest here: set BootTestAccelerator=tcg (or auto, which falls back to TCG by itself)";

    /// <summary>
    /// Waits for the login prompt. Returns null when it came (with the position after it), why KVM is
    /// unusable when probing it failed, or, under TCG and when <paramref name="mayRetry"/>, why the boot
    /// deserves a second one (the guest kernel crashed). Throws LIVE5001 on timeout or a fatal boot
    /// message, LIVE5005 when qemu exits first.
    /// </summary>
    private string? WaitForLoginPrompt(QemuProcess qemu, Stopwatch clock, QemuBootMode mode, QemuAccel accel, bool probeKvm, bool mayRetry, string serialLog, out int position)
    {
        var console = qemu.Console;
        var scanned = 0;
        var bannerSeen = false;
        var aliveSeen = false;
        var lastNudge = TimeSpan.Zero;
        var entryChosen = mode.MenuEntry is null;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            var closed = console.IsClosed;
            var length = console.Length;
            var from = Math.Max(0, scanned - 128); // prompts may straddle two reads
            var text = console.Read(from);
            bannerSeen |= text.Contains(QemuAccelerator.KernelBanner, StringComparison.Ordinal);
            if (!entryChosen) entryChosen = ChooseMenuEntry(qemu, mode, clock, bannerSeen, serialLog);
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
                // BootTestAccelerator=kvm was asked for explicitly: the guest has stopped, so say so now instead of timing out.
                throw new LiveImageException(nameof(Strings.QemuFailed), $"(none: the guest stopped {ExplicitKvmFailed})", _s.ImageName, mode.Name,
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
                // Whatever made a KVM run end before the kernel spoke, TCG may still boot the image.
                if (probeKvm && !aliveSeen) { position = 0; return QemuAccelerator.EarlyExitReason(exitCode, qemu.Stderr); }
                var output = QemuConsoleText.Tail(qemu.Stderr);
                if (output.Length == 0) output = QemuConsoleText.Tail(console.Read());
                if (accel == QemuAccel.Kvm && !aliveSeen) exitCode += $" ({ExplicitKvmFailed})";
                throw new LiveImageException(nameof(Strings.QemuFailed), exitCode, _s.ImageName, mode.Name, output, serialLog);
            }

            if (QemuConsoleText.Find(QemuConsoleText.ModulesError(), text, 0) is not null)
            {
                WaitQuietly(console, TimeSpan.FromSeconds(2)); // the rest of the message and the rescue shell's prompt
                var all = QemuConsoleText.Clean(console.Read());
                var message = QemuConsoleText.ModulesError().Match(all).Value.Trim();
                var resource = QemuConsoleText.ModuleCheckFailure().IsMatch(message) ? nameof(Strings.NetbootModuleCheckFailed) : nameof(Strings.NetbootModulesFailed);
                throw new LiveImageException(resource, _s.ImageName, mode.Name, message, serialLog);
            }

            if (accel == QemuAccel.Tcg && mayRetry && QemuConsoleText.Find(QemuConsoleText.KernelCrash(), text, 0) is { } crash)
            {
                WaitQuietly(console, TimeSpan.FromSeconds(2)); // the rest of the report, into the serial log
                position = 0;
                return $"the guest kernel crashed under TCG after {clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s ({QemuConsoleText.Clean(crash.Value).Trim()})";
            }

            var fatal = QemuConsoleText.Find(QemuConsoleText.FatalBootMessage(), text, 0) is not null;
            if (fatal || clock.Elapsed >= _s.BootTimeout)
            {
                if (fatal) WaitQuietly(console, TimeSpan.FromSeconds(2)); // let the panic finish printing
                var tail = QemuConsoleText.Tail(console.Read());
                if (!bannerSeen)
                    tail += (tail.Length > 0 ? "\n" : "") + "(the kernel printed nothing on the serial console: its command line needs " + _s.Machine.KernelConsole + ", and the boot menu must start it without a key press)";
                throw new LiveImageException(nameof(Strings.BootTimeout), _s.ImageName, mode.Name, Math.Round(clock.Elapsed.TotalSeconds),
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

    /// <summary>
    /// Once the boot menu shows the entry's title, types the keys that boot it; true then. A kernel that starts
    /// first was started by the default entry: LIVE5025.
    /// </summary>
    private bool ChooseMenuEntry(QemuProcess qemu, QemuBootMode mode, Stopwatch clock, bool bannerSeen, string serialLog)
    {
        var entry = mode.MenuEntry!;
        var screen = QemuConsoleText.Clean(qemu.Console.Read());
        if (screen.Contains(entry.Title, StringComparison.Ordinal))
        {
            qemu.Send(entry.Keys(mode.Firmware));
            log.LogMessage(MessageImportance.Normal, $"{mode.Name}: boot menu entry '{entry.Label}' chosen");
            return true;
        }
        if (bannerSeen || clock.Elapsed >= _s.BootTimeout)
            throw new LiveImageException(nameof(Strings.BootMenuEntryNotShown), _s.ImageName, entry.Label, entry.Title, Math.Round(clock.Elapsed.TotalSeconds),
                mode.Name, QemuConsoleText.Tail(qemu.Console.Read()), serialLog);
        return false;
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
}
