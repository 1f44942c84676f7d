using System.Globalization;
using LiveImage.Tasks.Internal;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace LiveImage.Tasks;

/// <summary>
/// Boots a live ISO in qemu once per boot mode (BIOS/UEFI, CD-ROM/USB stick), waits for the login
/// prompt on the serial console, logs in as the live user, checks with <c>id</c> that the user is in
/// the sudo group, and runs the <see cref="Checks"/>. The image's kernel command line must send the
/// console to the first serial port (<c>console=ttyS0</c> on amd64) and its boot loaders should use
/// the serial port too, or nothing can be seen.
/// </summary>
public sealed class BootTest : LiveImageTask
{
    /// <summary>The ISO to boot. It is never written to.</summary>
    [Required]
    public string IsoPath { get; set; } = "";

    /// <summary>Debian architecture of the image; decides the qemu program and firmware. Default amd64.</summary>
    public string Architecture { get; set; } = "amd64";

    /// <summary>';'-separated boot modes: bios-cdrom, bios-usb, uefi-cdrom, uefi-usb. Empty means all the architecture supports.</summary>
    public string Modes { get; set; } = "bios-cdrom;bios-usb;uefi-cdrom;uefi-usb";

    public int MemoryMiB { get; set; } = 2048;

    public int Cpus { get; set; } = 2;

    /// <summary>Seconds from starting qemu until the login prompt must be there (each step after that gets at most 180 s).</summary>
    public int TimeoutSeconds { get; set; } = 600;

    /// <summary>auto (KVM when it works, else TCG), kvm or tcg.</summary>
    public string Accelerator { get; set; } = QemuAccelerator.Auto;

    /// <summary>The user to log in as. It must be in the sudo group (except root).</summary>
    public string LiveUser { get; set; } = "user";

    public string LivePassword { get; set; } = "live";

    /// <summary>Where each mode's console goes: &lt;LogDirectory&gt;/&lt;mode&gt;.serial.log (and qemu's own messages to &lt;mode&gt;.qemu.log).</summary>
    [Required]
    public string LogDirectory { get; set; } = "";

    /// <summary>The image's name in messages; default the ISO file name without extension.</summary>
    public string ImageName { get; set; } = "";

    /// <summary>
    /// Shell commands (one line each) run as the live user after login. Metadata: Command = the command when
    /// the item spec cannot hold it (MSBuild splits Include at ';' and expands '*'); Expect = text that must be
    /// in the output (without it, the command must exit with 0); TimeoutSeconds = its time limit (default 180 at most).
    /// </summary>
    public ITaskItem[] Checks { get; set; } = [];

    /// <summary>UEFI firmware code; empty means the architecture's default (amd64: /usr/share/OVMF/OVMF_CODE_4M.fd).</summary>
    public string OvmfCode { get; set; } = "";

    /// <summary>UEFI variable store template, copied for each boot; empty means the default (amd64: /usr/share/OVMF/OVMF_VARS_4M.fd).</summary>
    public string OvmfVars { get; set; } = "";

    /// <summary>One item per mode booted (item spec: the ISO) with metadata Mode, Accelerator, Seconds (to the login prompt) and SerialLog.</summary>
    [Output]
    public ITaskItem[] Results { get; private set; } = [];

    protected override void ExecuteCore()
    {
        var machine = QemuMachine.Find(Architecture) ?? throw new LiveImageException("UnknownArchitecture", Architecture, QemuMachine.Names);
        var modes = QemuBootMode.ParseList(Modes, machine);
        var accelerator = QemuAccelerator.ParseRequest(Accelerator)
            ?? throw new LiveImageException("UnknownAccelerator", Accelerator, string.Join(", ", QemuAccelerator.Requests));
        if (!File.Exists(IsoPath)) throw new FileNotFoundException($"The ISO '{IsoPath}' does not exist.", IsoPath);

        var qemu = HostTools.Find(machine.Program)
            ?? throw new LiveImageException("MissingTool", machine.Program, HostTools.PackageFor(machine.Program));
        var setpriv = HostTools.Find("setpriv")
            ?? throw new LiveImageException("MissingTool", "setpriv", HostTools.PackageFor("setpriv"));
        var code = string.IsNullOrWhiteSpace(OvmfCode) ? machine.DefaultFirmwareCode : OvmfCode;
        var vars = string.IsNullOrWhiteSpace(OvmfVars) ? machine.DefaultFirmwareVars : OvmfVars;
        if (modes.Any(m => m.Firmware == QemuFirmware.Uefi))
        {
            foreach (var file in new[] { code, vars })
            {
                if (!File.Exists(file)) throw new LiveImageException("MissingHostFile", file, machine.FirmwarePackage);
            }
        }

        var imageName = string.IsNullOrWhiteSpace(ImageName) ? Path.GetFileNameWithoutExtension(IsoPath) : ImageName;
        var settings = new QemuBootSettings(
            machine, qemu, setpriv, IsoPath, imageName, accelerator,
            Math.Max(256, MemoryMiB), Math.Max(1, Cpus),
            TimeSpan.FromSeconds(Math.Max(1, TimeoutSeconds)),
            TimeSpan.FromSeconds(Math.Clamp(TimeoutSeconds, 30, 180)),
            LiveUser, LivePassword, Path.GetFullPath(LogDirectory), code, vars,
            Checks.Select(ToCheck).ToArray());

        var run = new QemuBootRun(settings, Log, CancellationToken);
        var results = new List<ITaskItem>();
        try
        {
            foreach (var mode in modes)
            {
                var r = run.Boot(mode);
                var accel = QemuAccelerator.Name(r.Accel);
                High("BootPassed", imageName, machine.Architecture, mode.Name, r.SecondsToLogin, accel);
                var item = new TaskItem(IsoPath);
                item.SetMetadata("Mode", mode.Name);
                item.SetMetadata("Accelerator", accel);
                item.SetMetadata("Seconds", r.SecondsToLogin.ToString("0.0", CultureInfo.InvariantCulture));
                item.SetMetadata("SerialLog", r.SerialLog);
                results.Add(item);
            }
        }
        finally
        {
            Results = results.ToArray();
        }
    }

    private static QemuBootCheck ToCheck(ITaskItem item)
    {
        var expect = item.GetMetadata("Expect");
        TimeSpan? timeout = int.TryParse(item.GetMetadata("TimeoutSeconds"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) && s > 0
            ? TimeSpan.FromSeconds(s)
            : null;
        var command = item.GetMetadata("Command");
        return new QemuBootCheck(string.IsNullOrEmpty(command) ? item.ItemSpec : command, string.IsNullOrEmpty(expect) ? null : expect, timeout);
    }
}
