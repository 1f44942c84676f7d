using System.Globalization;
using LiveImage.Tasks.BootTesting;
using LiveImage.Tasks.Configuration;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Processes;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace LiveImage.Tasks;

/// <summary>
/// Boots a live image in qemu once per boot mode (the ISO with BIOS/UEFI from a CD-ROM/USB stick, the
/// netboot folder over PXE with BIOS/UEFI), waits for the login prompt on the serial console, logs in
/// as the live user, runs the built-in checks (the user is in the sudo group, the system is running
/// or degraded, root's password is locked, apt uses the image mirror only, no policy-rc.d) and the
/// <see cref="Checks"/>. Per mode it leaves the serial log and a PNG screenshot in
/// <see cref="LogDirectory"/>, and it writes a JUnit XML file with one testcase per mode. The first
/// failing mode ends the test (the modes after it are reported as skipped). The image's kernel
/// command line must send the console to the first serial port (<c>console=ttyS0</c> on amd64) and
/// its boot loaders should use the serial port too, or nothing can be seen.
/// </summary>
public sealed class BootTest : LiveImageTask
{
    /// <summary>The ISO to boot (the ISO modes). It is never written to.</summary>
    public string IsoPath { get; set; } = "";

    /// <summary>The netboot folder the network modes boot (MakeNetbootTree's output); empty or missing: no network modes by default.</summary>
    public string NetbootDirectory { get; set; } = "";

    /// <summary>The image's name in a netboot folder of stacks (its &lt;image&gt;.modules): the network modes boot its menu entry.</summary>
    public string NetbootImage { get; set; } = "";

    /// <summary>Debian architecture of the image; decides the qemu program and firmware. Default amd64.</summary>
    public string Architecture { get; set; } = "amd64";

    /// <summary>
    /// ';'-separated boot modes: bios-cdrom, bios-usb, uefi-cdrom, uefi-usb, netboot, netboot-uefi. Empty means all
    /// the architecture supports (the network modes when there is a netboot folder). An ISO mode followed by '-' and
    /// a <see cref="MenuEntries"/> label (bios-usb-persistence) boots that entry only, not the default one.
    /// </summary>
    public string Modes { get; set; } = "";

    public int MemoryMiB { get; set; } = 2048;

    public int Cpus { get; set; } = 2;

    /// <summary>Seconds from starting qemu until the login prompt must be there (each step after that gets at most 180 s).</summary>
    public int TimeoutSeconds { get; set; } = 600;

    /// <summary>auto (KVM when it works, else TCG), kvm or tcg.</summary>
    public string Accelerator { get; set; } = QemuAccelerator.Auto;

    /// <summary>The user to log in as. It must be in the sudo group (except root).</summary>
    public string LiveUser { get; set; } = "user";

    public string LivePassword { get; set; } = "live";

    /// <summary>The build's LivePasswordFile: read here, instead of LivePassword, so the password is never a task parameter.</summary>
    public string LivePasswordFile { get; set; } = "";

    /// <summary>The live user should be in the sudo group (the build's LiveUserSudo); false skips that check.</summary>
    public bool LiveUserSudo { get; set; } = true;

    /// <summary>Root's password should be locked (the build's LockRootPassword): checked through sudo.</summary>
    public bool LockRootPassword { get; set; } = true;

    /// <summary>The mirror the image's apt sources must name (the build's image mirror); empty: only no build-time sources.</summary>
    public string ImageMirror { get; set; } = "";

    /// <summary>URIs of the AptSource items the image keeps (Use both or image): allowed beside the image mirror.</summary>
    public string[] ImageAptSources { get; set; } = [];

    /// <summary>The build's mirror: with an image mirror, the image's sources must no longer name it.</summary>
    public string BuildMirror { get; set; } = "";

    /// <summary>
    /// Units that may fail without failing the test (the build's BootTestAllowedFailedUnits; names or
    /// globs such as <c>ssh*.service</c>). Any other failed unit fails it: a degraded system is a defect.
    /// </summary>
    public string[] AllowedFailedUnits { get; set; } = [];

    /// <summary>Take a PNG screenshot per mode before stopping qemu (default true).</summary>
    public bool Screenshots { get; set; } = true;

    /// <summary>The JUnit XML result file; default &lt;LogDirectory&gt;/junit.xml.</summary>
    public string JUnitFile { get; set; } = "";
    /// <summary>Where each mode's console goes: &lt;LogDirectory&gt;/&lt;mode&gt;.serial.log (and qemu's own messages to &lt;mode&gt;.qemu.log).</summary>
    [Required]
    public string LogDirectory { get; set; } = "";

    /// <summary>The image's name in messages; default the ISO file name without extension.</summary>
    public string ImageName { get; set; } = "";

    /// <summary>
    /// Shell commands (one line each) run as the live user after login. Metadata: Command = the command when
    /// the item spec cannot hold it (MSBuild splits Include at ';' and expands '*'); Expect = text that must be
    /// in the output (without it, the command must exit with 0); TimeoutSeconds = its time limit (default 180 at most);
    /// AsRoot = true runs it as root through sudo (the password typed at sudo's prompt, never echoed or logged).
    /// </summary>
    public ITaskItem[] Checks { get; set; } = [];

    /// <summary>
    /// The BootMenuEntry items, in the order the menus list them (after live, fail-safe and to-RAM). Each with
    /// metadata BootTest="true" is booted once more, chosen in the menu, in the first ISO mode of <see cref="Modes"/>;
    /// its KernelArguments must then be in the kernel's command line.
    /// </summary>
    public ITaskItem[] MenuEntries { get; set; } = [];

    /// <summary>
    /// A disk image booted instead of the ISO, and written to (no snapshot): a PersistentDisk's image, whose
    /// persistence partition keeps what the guest writes from one boot test to the next. Boot it in the USB modes.
    /// </summary>
    public string DiskImage { get; set; } = "";

    /// <summary>A raw disk image attached as a second, writable virtio disk (/dev/vda in the guest), e.g. to save a module to.</summary>
    public string ExtraDisk { get; set; } = "";

    /// <summary>
    /// Labels of <see cref="MenuEntries"/> (';'-separated) booted as if their BootTest were "true": the way to boot-test
    /// an entry the SDK adds (persistence) or to choose entries from the command line.
    /// </summary>
    public string MenuEntriesToBoot { get; set; } = "";

    /// <summary>UEFI firmware code; empty means the architecture's default (amd64: /usr/share/OVMF/OVMF_CODE_4M.fd).</summary>
    public string OvmfCode { get; set; } = "";

    /// <summary>UEFI variable store template, copied for each boot; empty means the default (amd64: /usr/share/OVMF/OVMF_VARS_4M.fd).</summary>
    public string OvmfVars { get; set; } = "";

    /// <summary>
    /// One item per mode booted (item spec: the ISO, or the netboot folder) with metadata Mode, Accelerator,
    /// Seconds (to the login prompt), SerialLog, Screenshot and SystemState.
    /// </summary>
    [Output]
    public ITaskItem[] Results { get; private set; } = [];

    /// <summary>The JUnit XML file written.</summary>
    [Output]
    public string JUnitPath { get; private set; } = "";

    protected override void ExecuteCore()
    {
        var machine = QemuMachine.Find(Architecture) ?? throw new LiveImageException(nameof(Strings.UnknownArchitecture), Architecture, QemuMachine.Names);
        var netbootAvailable = NetbootDirectory.Trim().Length > 0 && Directory.Exists(NetbootDirectory);
        var modes = ModesToBoot(machine, netbootAvailable);
        var accelerator = QemuAccelerator.ParseRequest(Accelerator)
            ?? throw new LiveImageException(nameof(Strings.UnknownAccelerator), Accelerator, string.Join(", ", QemuAccelerator.Requests));
        if (DiskImage.Length > 0)
        {
            if (!File.Exists(DiskImage)) throw new LiveImageException(nameof(Strings.BootTestDiskMissing), "BootTestDiskImage", DiskImage);
            IsoPath = DiskImage;
        }
        if (ExtraDisk.Length > 0 && !File.Exists(ExtraDisk)) throw new LiveImageException(nameof(Strings.BootTestDiskMissing), "BootTestExtraDisk", ExtraDisk);
        if (modes.Any(m => !m.IsNetwork) && !File.Exists(IsoPath)) throw new FileNotFoundException($"The ISO '{IsoPath}' does not exist.", IsoPath);

        var qemu = HostTools.Find(machine.Program)
            ?? throw new LiveImageException(nameof(Strings.MissingTool), machine.Program, HostTools.PackageFor(machine.Program));
        var setpriv = HostTools.Find("setpriv")
            ?? throw new LiveImageException(nameof(Strings.MissingTool), "setpriv", HostTools.PackageFor("setpriv"));
        var code = string.IsNullOrWhiteSpace(OvmfCode) ? machine.DefaultFirmwareCode : OvmfCode;
        var vars = string.IsNullOrWhiteSpace(OvmfVars) ? machine.DefaultFirmwareVars : OvmfVars;
        if (modes.Any(m => m.Firmware == QemuFirmware.Uefi))
        {
            foreach (var file in new[] { code, vars })
            {
                if (!File.Exists(file)) throw new LiveImageException(nameof(Strings.MissingHostFile), file, machine.FirmwarePackage);
            }
        }

        var imageName = string.IsNullOrWhiteSpace(ImageName)
            ? Path.GetFileNameWithoutExtension(IsoPath.Length > 0 ? IsoPath : Path.GetDirectoryName(Path.GetFullPath(NetbootDirectory).TrimEnd('/')) ?? "image")
            : ImageName;
        var logDirectory = Path.GetFullPath(LogDirectory);
        var settings = new QemuBootSettings(
            machine, qemu, setpriv, IsoPath, imageName, accelerator,
            Math.Max(256, MemoryMiB), Math.Max(1, Cpus),
            TimeSpan.FromSeconds(Math.Max(1, TimeoutSeconds)),
            TimeSpan.FromSeconds(Math.Clamp(TimeoutSeconds, 30, 180)),
            LiveUser, LivePasswordFile.Length > 0 ? Configuration.LivePasswordFile.Read(LivePasswordFile) : LivePassword, logDirectory, code, vars,
            Checks.Select(ToCheck).ToArray())
        {
            NetbootDirectory = netbootAvailable ? Path.GetFullPath(NetbootDirectory) : null,
            NetbootImage = NetbootImage.Trim(),
            NetbootEfiFile = DebianArchitecture.Find(machine.Architecture)?.EfiBootFile?.ToLowerInvariant(),
            LiveUserSudo = LiveUserSudo,
            LockRootPassword = LockRootPassword,
            ImageMirror = ImageMirror.Trim(),
            ImageAptSources = ImageAptSources,
            BuildMirror = BuildMirror.Trim(),
            AllowedFailedUnits = AllowedFailedUnits.Select(u => u.Trim()).Where(u => u.Length > 0).ToArray(),
            Screenshots = Screenshots,
            DiskWritable = DiskImage.Length > 0,
            ExtraDisk = ExtraDisk.Length > 0 ? Path.GetFullPath(ExtraDisk) : null,
        };

        var run = new QemuBootRun(settings, Log, CancellationToken);
        var results = new List<ITaskItem>();
        var cases = new List<BootCaseResult>();
        var started = DateTime.UtcNow;
        JUnitPath = string.IsNullOrWhiteSpace(JUnitFile) ? Path.Combine(logDirectory, "junit.xml") : Path.GetFullPath(JUnitFile);
        Exception? failure = null;
        try
        {
            foreach (var mode in modes)
            {
                if (failure is not null)
                {
                    cases.Add(new BootCaseResult(mode.Name, BootOutcome.Skipped, 0, Message: "not booted: an earlier mode failed"));
                    continue;
                }
                var clock = System.Diagnostics.Stopwatch.StartNew();
                try
                {
                    var r = run.Boot(mode);
                    var accel = QemuAccelerator.Name(r.Accel);
                    High(nameof(Strings.BootPassed), imageName, machine.Architecture, mode.Name, r.SecondsToLogin, accel);
                    var screenshot = run.ExistingScreenshot(mode);
                    var item = new TaskItem(mode.IsNetwork ? settings.NetbootDirectory! : IsoPath);
                    item.SetMetadata("Mode", mode.Name);
                    item.SetMetadata("Accelerator", accel);
                    item.SetMetadata("Seconds", r.SecondsToLogin.ToString("0.0", CultureInfo.InvariantCulture));
                    item.SetMetadata("SerialLog", r.SerialLog);
                    item.SetMetadata("Screenshot", screenshot ?? "");
                    item.SetMetadata("SystemState", r.SystemState);
                    results.Add(item);
                    cases.Add(new BootCaseResult(mode.Name, BootOutcome.Passed, clock.Elapsed.TotalSeconds,
                        SerialLog: r.SerialLog, Screenshot: screenshot, Accelerator: accel, SecondsToLogin: r.SecondsToLogin));
                    cases.AddRange(CheckCases(mode, run.LastChecks, null));
                }
                catch (Exception e) when (e is LiveImageException or IOException or UnauthorizedAccessException or OperationCanceledException)
                {
                    var message = e switch
                    {
                        LiveImageException => e.Message,
                        OperationCanceledException => Strings.Format(nameof(Strings.Cancelled), nameof(BootTest)),
                        _ => Strings.Format(nameof(Strings.IoFailure), nameof(BootTest), e.Message),
                    };
                    var serial = File.Exists(run.SerialLogPath(mode)) ? run.SerialLogPath(mode) : null;
                    // a failed check: the boot itself passed, the check is the failing test case
                    var checkFailed = run.LastChecks?.Current is not null;
                    cases.Add(checkFailed
                        ? new BootCaseResult(mode.Name, BootOutcome.Passed, clock.Elapsed.TotalSeconds, SerialLog: serial, Screenshot: run.ExistingScreenshot(mode))
                        : new BootCaseResult(mode.Name, BootOutcome.Failed, clock.Elapsed.TotalSeconds,
                            Code: JUnitReport.CodeOf(message), Message: message, SerialLog: serial, Screenshot: run.ExistingScreenshot(mode)));
                    cases.AddRange(CheckCases(mode, run.LastChecks, message));
                    failure = e;
                    if (e is OperationCanceledException) break;
                }
            }
        }
        finally
        {
            Results = results.ToArray();
            JUnitReport.Write(JUnitPath, JUnitReport.Build(imageName, machine.Architecture, cases, started));
            Log.LogMessage(MessageImportance.Normal, $"boot test results: {JUnitPath}");
        }
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }

    /// <summary>One test case per check of a boot: those that passed, and the one that failed with the failure's message.</summary>
    private static IEnumerable<BootCaseResult> CheckCases(QemuBootMode mode, QemuGuestChecks? checks, string? failure)
    {
        if (checks is null) yield break;
        foreach (var (name, seconds) in checks.Passed)
            yield return new BootCaseResult(mode.Name, BootOutcome.Passed, seconds, Check: name);
        if (failure is not null && checks.Current is { } failed)
            yield return new BootCaseResult(mode.Name, BootOutcome.Failed, checks.CurrentSeconds, Code: JUnitReport.CodeOf(failure), Message: failure, Check: failed);
    }

    /// <summary>
    /// The modes (one named &lt;mode&gt;-&lt;label&gt; boots only that entry), then each BootMenuEntry with BootTest="true"
    /// or named by <see cref="MenuEntriesToBoot"/> booted in the first ISO mode (chosen in its menu), unless listed already.
    /// </summary>
    internal IReadOnlyList<QemuBootMode> ModesToBoot(QemuMachine machine, bool netbootAvailable)
    {
        var named = MenuEntriesToBoot.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (named.FirstOrDefault(n => !MenuEntries.Any(e => e.ItemSpec == n)) is { } unknown)
            throw new LiveImageException(nameof(Strings.BootTestMenuEntryUnknown), unknown,
                MenuEntries.Length > 0 ? string.Join(", ", MenuEntries.Select(e => e.ItemSpec)) : "(none)");
        var all = MenuEntries
            .Select((e, i) => (Item: e, Entry: new QemuMenuEntry(e.ItemSpec, e.GetMetadata("Title") is { Length: > 0 } t ? t : e.ItemSpec,
                Iso.BootMenu.StandardEntryCount + i, e.GetMetadata("KernelArguments").Trim())))
            .ToList();
        var modes = QemuBootMode.ParseList(Modes, machine, netbootAvailable, all.Select(e => e.Entry).ToList());
        var entries = all
            .Where(e => string.Equals(e.Item.GetMetadata("BootTest").Trim(), "true", StringComparison.OrdinalIgnoreCase) || named.Contains(e.Item.ItemSpec))
            .Select(e => e.Entry)
            .Where(e => !modes.Any(m => m.MenuEntry == e))
            .ToList();
        if (entries.Count == 0) return modes;
        if (modes.FirstOrDefault(m => !m.IsNetwork && m.MenuEntry is null) is not { } iso)
        {
            Log.LogMessage(MessageImportance.High, $"boot test: no ISO mode in BootTestModes, so the BootMenuEntry items with BootTest=\"true\" are not booted");
            return modes;
        }
        return [.. modes, .. entries.Select(iso.WithMenuEntry)];
    }

    private static QemuBootCheck ToCheck(ITaskItem item)
    {
        var expect = item.GetMetadata("Expect");
        TimeSpan? timeout = int.TryParse(item.GetMetadata("TimeoutSeconds"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) && s > 0
            ? TimeSpan.FromSeconds(s)
            : null;
        var command = item.GetMetadata("Command");
        var asRoot = string.Equals(item.GetMetadata("AsRoot").Trim(), "true", StringComparison.OrdinalIgnoreCase);
        return new QemuBootCheck(string.IsNullOrEmpty(command) ? item.ItemSpec : command, string.IsNullOrEmpty(expect) ? null : expect, timeout, asRoot);
    }
}
