using System.Diagnostics;
using LiveImage.Tasks.BootTesting;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Processes;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Boots the built ISO in qemu for a user (what <c>dotnet run</c> does, like mkosi's <c>vm</c>): the guest's
/// serial console is the terminal (qemu reads the build's standard input and writes its standard output),
/// a window where a display exists, a network on qemu's user network. The command line is the boot test's
/// (<see cref="QemuCommandLine"/>), and so is the choice of accelerator: KVM when it works, TCG when qemu says
/// KVM cannot run the guest. The task ends when qemu does: the guest powered off, Ctrl+C on the terminal,
/// or the build cancelled; qemu carries a parent-death signal, so it cannot outlive the build.
/// </summary>
public sealed class RunImage : LiveImageTask
{
    [Required] public string IsoPath { get; set; } = "";

    /// <summary>Debian architecture of the image; decides the qemu program and firmware.</summary>
    public string Architecture { get; set; } = "amd64";

    /// <summary>bios or uefi (from the CD-ROM), or any ISO mode of the boot test (bios-usb, uefi-usb ...); empty: the first the architecture has.</summary>
    public string BootMode { get; set; } = "";

    public int MemoryMiB { get; set; } = 2048;

    public int Cpus { get; set; } = 2;

    /// <summary>auto (KVM when it works, else TCG), kvm or tcg.</summary>
    public string Accelerator { get; set; } = QemuAccelerator.Auto;

    /// <summary>auto (a window when $DISPLAY or $WAYLAND_DISPLAY is set), window, or none (the serial console only).</summary>
    public string Display { get; set; } = "auto";

    /// <summary>Where the copy of the UEFI variables and qemu's command line go (under obj/).</summary>
    [Required] public string WorkDirectory { get; set; } = "";

    /// <summary>The boot test's firmware defaults apply when empty.</summary>
    public string OvmfCode { get; set; } = "";
    public string OvmfVars { get; set; } = "";

    /// <summary>The KVM device whose access decides whether KVM is tried at all (tests point it elsewhere).</summary>
    public string KvmDevice { get; set; } = QemuAccelerator.DevKvm;

    /// <summary>How long qemu gets to restore the terminal after SIGTERM before it is killed.</summary>
    private static readonly TimeSpan StopTime = TimeSpan.FromSeconds(5);

    protected override void ExecuteCore()
    {
        var machine = QemuMachine.Find(Architecture) ?? throw new LiveImageException(nameof(Strings.UnknownArchitecture), Architecture, QemuMachine.Names);
        var mode = RunBootMode.Parse(BootMode, machine);
        var request = QemuAccelerator.ParseRequest(Accelerator)
            ?? throw new LiveImageException(nameof(Strings.UnknownRunAccelerator), Accelerator, string.Join(", ", QemuAccelerator.Requests));
        var window = RunBootMode.WantsWindow(Display, Environment.GetEnvironmentVariable("DISPLAY"), Environment.GetEnvironmentVariable("WAYLAND_DISPLAY"))
            ?? throw new LiveImageException(nameof(Strings.UnknownRunDisplay), Display);
        if (!File.Exists(IsoPath)) throw new LiveImageException(nameof(Strings.RunIsoMissing), IsoPath);

        var qemu = HostTools.Find(machine.Program) ?? throw new LiveImageException(nameof(Strings.MissingTool), machine.Program, HostTools.PackageFor(machine.Program));
        var setpriv = HostTools.Find("setpriv") ?? throw new LiveImageException(nameof(Strings.MissingTool), "setpriv", HostTools.PackageFor("setpriv"));
        var code = OvmfCode.Length > 0 ? OvmfCode : machine.DefaultFirmwareCode;
        var vars = OvmfVars.Length > 0 ? OvmfVars : machine.DefaultFirmwareVars;
        var work = Path.GetFullPath(WorkDirectory);
        Directory.CreateDirectory(work);
        var varsCopy = Path.Combine(work, "efivars.fd");
        if (mode.Firmware == QemuFirmware.Uefi)
        {
            foreach (var file in new[] { code, vars })
                if (!File.Exists(file)) throw new LiveImageException(nameof(Strings.MissingHostFile), file, machine.FirmwarePackage);
        }

        High(nameof(Strings.RunStarting), Path.GetFileName(IsoPath), mode.Name, MemoryMiB, Cpus, window ? "a window and " : "");
        var accel = QemuKvmFallback.FirstAccelerator(request, machine, KvmDevice, Log);
        while (true)
        {
            CancellationToken.ThrowIfCancellationRequested();
            // fresh variables each boot, as a new machine has
            if (mode.Firmware == QemuFirmware.Uefi) File.Copy(vars, varsCopy, overwrite: true);
            var args = QemuCommandLine.Build(new QemuLaunch(machine, mode, accel, Path.GetFullPath(IsoPath), Math.Max(256, MemoryMiB), Math.Max(1, Cpus), code, varsCopy)
            {
                Interactive = new QemuInteractive(window),
            });
            var command = new ToolCommand(setpriv, ProcessRunner.WithParentDeathSignal(qemu, args));
            File.WriteAllText(Path.Combine(work, "qemu.cmdline"), ToolCommand.Join([qemu, .. args]) + "\n");
            Log.LogMessage(MessageImportance.Normal, ToolCommand.Join([qemu, .. args]));

            var (exitCode, kvmFailure) = RunQemu(command, watchForKvmFailure: accel == QemuAccel.Kvm && request == QemuAccelerator.Auto);
            if (kvmFailure is not null)
            {
                accel = QemuKvmFallback.FallBack(kvmFailure, Log);
                continue;
            }
            if (CancellationToken.IsCancellationRequested)
            {
                // Ctrl+C: the usual way out, not a failed stage (MSBuild still ends the build as cancelled)
                High(nameof(Strings.RunEnded), Path.GetFileName(IsoPath));
                return;
            }
            if (exitCode != 0) throw new LiveImageException(nameof(Strings.RunQemuFailed), machine.Program, exitCode, Path.Combine(work, "qemu.cmdline"));
            High(nameof(Strings.RunEnded), Path.GetFileName(IsoPath));
            return;
        }
    }

    /// <summary>
    /// Runs qemu on the terminal until it ends. Its standard error is watched while KVM is on trial: when qemu
    /// says KVM cannot run the guest, qemu is stopped and the failure returned (the caller retries with TCG);
    /// its lines are held back meanwhile (a KVM failure is a register dump the user need not read) and passed on after.
    /// </summary>
    private (int ExitCode, string? KvmFailure) RunQemu(ToolCommand command, bool watchForKvmFailure)
    {
        using var process = ProcessRunner.StartOnTerminal(command, captureError: true);
        string? kvmFailure = null;
        var held = new List<string>();
        var errors = new Thread(() =>
        {
            string? line;
            while ((line = process.StandardError.ReadLine()) is not null)
            {
                if (!watchForKvmFailure) { Console.Error.WriteLine(line); continue; }
                held.Add(line);
                if (kvmFailure is null && QemuAccelerator.KvmFailureIn(line) is { } failure)
                {
                    kvmFailure = failure;
                    Stop(process);
                }
            }
        }) { IsBackground = true, Name = "qemu stderr" };
        errors.Start();
        using (CancellationToken.Register(() => Stop(process)))
        {
            process.WaitForExit();
        }
        errors.Join(StopTime);
        if (kvmFailure is null) foreach (var line in held) Console.Error.WriteLine(line);
        return (process.ExitCode, kvmFailure);
    }

    private const int SigTerm = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>SIGTERM first (qemu then gives the terminal back as it was), SIGKILL if it does not end.</summary>
    private static void Stop(Process process)
    {
        try
        {
            if (process.HasExited) return;
            // setpriv has exec'd qemu: the process is qemu itself
            _ = SendSignal(process.Id, SigTerm);
            if (!process.WaitForExit(StopTime)) process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // already gone
        }
    }
}
