using LiveImage.Tasks.BootTesting;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Processes;
using Microsoft.Build.Framework;
using Xunit;

namespace LiveImage.Tasks.Tests;

/// <summary>
/// The pure logic of the boot test: qemu arguments per mode, KVM failure detection, prompt matching
/// and command output framing. No qemu, no root.
/// </summary>
public class BootTestLogicTests
{
    private const string Iso = "/images/live.iso";
    private const string Code = "/usr/share/OVMF/OVMF_CODE_4M.fd";
    private const string VarsCopy = "/tmp/liveimage-boot-x/efivars.fd";

    private static IReadOnlyList<string> Args(QemuBootMode mode, QemuAccel accel = QemuAccel.Tcg, string iso = Iso) =>
        QemuCommandLine.Build(new QemuLaunch(QemuMachine.Amd64, mode, accel, iso, 2048, 2, Code, VarsCopy));

    /// <summary>The values given to one option, in order ("-drive" → every drive spec).</summary>
    private static List<string> Values(IReadOnlyList<string> args, string option) =>
        args.Select((a, i) => (a, i)).Where(x => x.a == option && x.i + 1 < args.Count).Select(x => args[x.i + 1]).ToList();

    // ---- qemu command line per mode ------------------------------------------------------------

    [Theory]
    [InlineData("bios-cdrom")]
    [InlineData("bios-usb")]
    [InlineData("uefi-cdrom")]
    [InlineData("uefi-usb")]
    public void Every_mode_has_a_headless_serial_console_and_no_network(string name)
    {
        var args = Args(QemuBootMode.All.Single(m => m.Name == name));

        Assert.Equal(["none"], Values(args, "-display"));
        Assert.Equal(["none"], Values(args, "-monitor"));
        Assert.Equal(["none"], Values(args, "-nic"));
        Assert.Equal(["2048"], Values(args, "-m"));
        Assert.Equal(["2"], Values(args, "-smp"));
        Assert.Contains("-no-reboot", args);
        Assert.Equal(["chardev:console"], Values(args, "-serial"));
        Assert.Equal(["stdio,id=console,signal=off"], Values(args, "-chardev"));
    }

    [Fact]
    public void Bios_cdrom_attaches_the_iso_read_only_as_a_cd_and_uses_no_pflash()
    {
        var args = Args(QemuBootMode.BiosCdrom);

        Assert.Equal(["if=none,id=live,media=cdrom,format=raw,readonly=on,file=/images/live.iso"], Values(args, "-drive"));
        Assert.Equal(["ide-cd,drive=live,bootindex=0"], Values(args, "-device"));
    }

    [Fact]
    public void Bios_usb_attaches_the_iso_as_a_usb_stick_with_a_snapshot_so_it_is_never_written()
    {
        var args = Args(QemuBootMode.BiosUsb);

        var drive = Assert.Single(Values(args, "-drive"));
        Assert.Contains("snapshot=on", drive);
        Assert.Contains("format=raw", drive);
        Assert.DoesNotContain("media=cdrom", drive);
        Assert.EndsWith("file=/images/live.iso", drive);
        Assert.Equal(["qemu-xhci,id=xhci", "usb-storage,bus=xhci.0,drive=live,bootindex=0"], Values(args, "-device"));
    }

    [Theory]
    [InlineData("uefi-cdrom", "ide-cd,drive=live,bootindex=0")]
    [InlineData("uefi-usb", "usb-storage,bus=xhci.0,drive=live,bootindex=0")]
    public void Uefi_modes_add_read_only_firmware_code_and_a_private_variable_store(string name, string bootDevice)
    {
        var args = Args(QemuBootMode.All.Single(m => m.Name == name));

        var drives = Values(args, "-drive");
        Assert.Equal("if=pflash,format=raw,unit=0,readonly=on,file=" + Code, drives[0]);
        Assert.Equal("if=pflash,format=raw,unit=1,file=" + VarsCopy, drives[1]);
        Assert.Equal(3, drives.Count);
        Assert.Contains(bootDevice, Values(args, "-device"));
    }

    [Fact]
    public void Bios_modes_use_no_pflash()
    {
        Assert.DoesNotContain(Values(Args(QemuBootMode.BiosCdrom), "-drive"), d => d.Contains("pflash"));
        Assert.DoesNotContain(Values(Args(QemuBootMode.BiosUsb), "-drive"), d => d.Contains("pflash"));
    }

    [Fact]
    public void Kvm_uses_the_host_cpu_and_tcg_the_default_cpu()
    {
        var kvm = Args(QemuBootMode.BiosCdrom, QemuAccel.Kvm);
        var tcg = Args(QemuBootMode.BiosCdrom, QemuAccel.Tcg);

        Assert.Equal(["kvm"], Values(kvm, "-accel"));
        Assert.Equal(["host"], Values(kvm, "-cpu"));
        Assert.Equal(["tcg"], Values(tcg, "-accel"));
        Assert.Empty(Values(tcg, "-cpu"));
    }

    [Fact]
    public void Commas_in_paths_are_doubled_for_qemu()
    {
        var args = Args(QemuBootMode.BiosCdrom, iso: "/images/a,b.iso");

        Assert.EndsWith("file=/images/a,,b.iso", Assert.Single(Values(args, "-drive")));
    }

    [Fact]
    public void Qemu_is_started_through_setpriv_with_a_parent_death_signal()
    {
        var args = ProcessRunner.WithParentDeathSignal("/usr/bin/qemu-system-x86_64", ["-m", "512"]);

        Assert.Equal(["--pdeathsig", "KILL", "--", "/usr/bin/qemu-system-x86_64", "-m", "512"], args);
    }

    [Fact]
    public void Amd64_runs_qemu_system_x86_64_with_ovmf()
    {
        var m = QemuMachine.Find("amd64");

        Assert.NotNull(m);
        Assert.Equal("qemu-system-x86_64", m.Program);
        Assert.Equal("/usr/share/OVMF/OVMF_CODE_4M.fd", m.DefaultFirmwareCode);
        Assert.Equal("/usr/share/OVMF/OVMF_VARS_4M.fd", m.DefaultFirmwareVars);
        Assert.Equal("ovmf", m.FirmwarePackage);
        Assert.Equal("console=ttyS0,115200", m.KernelConsole);
        Assert.Null(QemuMachine.Find("sparc64"));
    }

    // ---- boot modes ----------------------------------------------------------------------------

    [Fact]
    public void Modes_are_parsed_in_order_without_duplicates_or_blanks()
    {
        var modes = QemuBootMode.ParseList(" uefi-usb ; bios-cdrom;;UEFI-USB;", QemuMachine.Amd64);

        Assert.Equal(["uefi-usb", "bios-cdrom"], modes.Select(m => m.Name));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" ; ")]
    public void No_modes_means_every_mode_the_machine_supports(string? modes)
    {
        Assert.Equal(["bios-cdrom", "bios-usb", "uefi-cdrom", "uefi-usb"], QemuBootMode.ParseList(modes, QemuMachine.Amd64).Select(m => m.Name));
        Assert.Equal(["bios-cdrom", "bios-usb", "uefi-cdrom", "uefi-usb", "netboot", "netboot-uefi"],
            QemuBootMode.ParseList(modes, QemuMachine.Amd64, netbootAvailable: true).Select(m => m.Name));
    }

    [Fact]
    public void A_network_mode_without_a_netboot_folder_is_LIVE5007()
    {
        var e = Assert.Throws<LiveImageException>(() => QemuBootMode.ParseList("bios-cdrom;netboot", QemuMachine.Amd64, netbootAvailable: false));

        Assert.Equal("NetbootMissing", e.ResourceName);
        Assert.StartsWith("LIVE5007: Boot mode netboot ", e.Message);
        Assert.Equal(["netboot"], QemuBootMode.ParseList("NETBOOT", QemuMachine.Amd64, netbootAvailable: true).Select(m => m.Name));
    }

    [Fact]
    public void An_unknown_mode_is_LIVE5004_naming_the_known_ones()
    {
        var e = Assert.Throws<LiveImageException>(() => QemuBootMode.ParseList("bios-cdrom;pxe", QemuMachine.Amd64));

        Assert.Equal("UnknownBootMode", e.ResourceName);
        Assert.Equal("pxe", e.Arguments[0]);
        Assert.Equal("bios-cdrom, bios-usb, uefi-cdrom, uefi-usb, netboot, netboot-uefi", e.Arguments[1]);
        Assert.StartsWith("LIVE5004: ", e.Message);
    }

    [Fact]
    public void An_iso_mode_followed_by_an_entry_label_boots_only_that_entry()
    {
        var persistence = new QemuMenuEntry("persistence", "Live (persistence)", 3, "persistence");

        var modes = QemuBootMode.ParseList("bios-usb-persistence;bios-usb;BIOS-USB-PERSISTENCE", QemuMachine.Amd64, entries: [persistence]);

        Assert.Equal(["bios-usb-persistence", "bios-usb"], modes.Select(m => m.Name));
        Assert.Equal(persistence, modes[0].MenuEntry);
        Assert.Equal(QemuMedium.UsbStick, modes[0].Medium);
        Assert.Null(modes[1].MenuEntry);
        // only ISO modes choose entries, and only entries the image has
        var e = Assert.Throws<LiveImageException>(() => QemuBootMode.ParseList("netboot-persistence", QemuMachine.Amd64, true, [persistence]));
        Assert.Equal("UnknownBootMode", e.ResourceName);
        Assert.EndsWith("netboot-uefi, bios-cdrom-persistence, bios-usb-persistence, uefi-cdrom-persistence, uefi-usb-persistence", (string)e.Arguments[1]);
        Assert.Throws<LiveImageException>(() => QemuBootMode.ParseList("bios-usb-persistence", QemuMachine.Amd64));
    }

    [Fact]
    public void A_machine_without_bios_offers_only_uefi_modes()
    {
        var uefiOnly = QemuMachine.Amd64 with { HasBios = false };

        Assert.Equal(["uefi-cdrom", "uefi-usb"], QemuBootMode.ParseList("", uefiOnly).Select(m => m.Name));
        Assert.Equal(["uefi-cdrom", "uefi-usb", "netboot-uefi"], QemuBootMode.ParseList("", uefiOnly, netbootAvailable: true).Select(m => m.Name));
        var e = Assert.Throws<LiveImageException>(() => QemuBootMode.ParseList("bios-usb", uefiOnly));
        Assert.Equal("uefi-cdrom, uefi-usb, netboot-uefi", e.Arguments[1]);
        Assert.Throws<LiveImageException>(() => QemuBootMode.ParseList("netboot", uefiOnly, netbootAvailable: true));
    }

    // ---- accelerator ---------------------------------------------------------------------------

    [Theory]
    [InlineData(null, "auto")]
    [InlineData("", "auto")]
    [InlineData("auto", "auto")]
    [InlineData(" KVM ", "kvm")]
    [InlineData("tcg", "tcg")]
    [InlineData("hvf", null)]
    public void Accelerator_requests_are_normalised(string? value, string? expected)
    {
        Assert.Equal(expected, QemuAccelerator.ParseRequest(value));
    }

    private const string NestedKvmFailure = """
        KVM internal error. Suberror: 1
        extra data[0]: 0x0000000000000001
        extra data[1]: 0x5657559090c3cf0f
        emulation failure
        ES =0028 00000000 ffffffff 00c09300 DPL=0 DS   [-WA]
        CS =0020 00000000 ffffffff 00c09b00 DPL=0 CS32 [-RA]
        Code=eb de ff 0d d8 3a 00 00 75 06 ff 15 84 8e 00 00 61 83 c4 04 <cf> c3 90 90
        """;

    [Fact]
    public void A_kvm_internal_error_from_qemu_is_a_kvm_failure()
    {
        var reason = QemuAccelerator.KvmFailureIn(NestedKvmFailure);

        Assert.Equal("qemu: KVM internal error. Suberror: 1", reason);
    }

    [Theory]
    [InlineData("emulation failure")]
    [InlineData("qemu-system-x86_64: failed to initialize kvm: Permission denied")]
    [InlineData("Could not access KVM kernel module: No such file or directory")]
    public void Other_kvm_failures_are_recognised(string stderr)
    {
        Assert.NotNull(QemuAccelerator.KvmFailureIn("some line\n" + stderr + "\n"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("qemu-system-x86_64: warning: host doesn't support requested feature: CPUID.80000001H:ECX.svm [bit 2]\n")]
    [InlineData("qemu-system-x86_64: terminating on signal 15 from pid 1234\n")]
    public void Ordinary_qemu_output_is_not_a_kvm_failure(string stderr)
    {
        Assert.Null(QemuAccelerator.KvmFailureIn(stderr));
    }

    [Fact]
    public void Kvm_is_judged_unusable_when_the_kernel_has_not_spoken_within_the_probe_time()
    {
        Assert.False(QemuAccelerator.KernelMissedProbe(TimeSpan.FromSeconds(29), bannerSeen: false));
        Assert.True(QemuAccelerator.KernelMissedProbe(QemuAccelerator.ProbeTime, bannerSeen: false));
        Assert.False(QemuAccelerator.KernelMissedProbe(TimeSpan.FromSeconds(300), bannerSeen: true));
    }

    // ---- console text --------------------------------------------------------------------------

    [Theory]
    [InlineData("\r\nDebian GNU/Linux 13 debian-live ttyS0\r\n\r\ndebian-live login: ")]
    [InlineData("debian-live login:")]
    [InlineData("debian-live login: [   86.317661] powernow_k8: Power state transitions not supported\r\n")]
    public void The_login_prompt_is_found_without_a_newline_and_with_kernel_messages_after_it(string text)
    {
        Assert.NotNull(QemuConsoleText.Find(QemuConsoleText.LoginPrompt(), text, 0));
    }

    [Theory]
    [InlineData("Last login: Mon Nov 24 10:00:00 UTC 2026 on ttyS0\r\n")]
    [InlineData("[  OK  ] Started systemd-logind.service - User Login Management.\r\n")]
    [InlineData("debian-live log")]
    public void Other_text_is_not_a_login_prompt(string text)
    {
        Assert.Null(QemuConsoleText.Find(QemuConsoleText.LoginPrompt(), text, 0));
    }

    [Fact]
    public void Searching_starts_at_the_given_position()
    {
        const string text = "debian-live login: root\r\nPassword: \r\nLogin incorrect\r\ndebian-live login: ";
        var first = QemuConsoleText.Find(QemuConsoleText.LoginPrompt(), text, 0)!;
        var second = QemuConsoleText.Find(QemuConsoleText.LoginPrompt(), text, first.Index + first.Length)!;

        Assert.True(second.Index > first.Index);
        Assert.NotNull(QemuConsoleText.Find(QemuConsoleText.PasswordPrompt(), text, 0));
        Assert.NotNull(QemuConsoleText.Find(QemuConsoleText.LoginIncorrect(), text, 0));
        Assert.Null(QemuConsoleText.Find(QemuConsoleText.LoginPrompt(), text, second.Index + second.Length));
    }

    [Theory]
    [InlineData("\u001b[?2004hroot@debian-live:~# ", true)]
    [InlineData("user@debian-live:~$ ", true)]
    [InlineData("$ ", true)]
    [InlineData("user@debian-live:~$ id\r\n", false)]
    [InlineData("permitted by applicable law.\r\n", false)]
    public void A_shell_prompt_is_recognised_only_at_the_end_of_the_text(string text, bool expected)
    {
        Assert.Equal(expected, QemuConsoleText.ShellPromptAtEnd().IsMatch(text));
    }

    [Fact]
    public void The_ready_probe_matches_the_shell_output_but_not_the_echo_of_what_was_typed()
    {
        const string echo = "root@debian-live:~# echo LIVEIMAGE''_READY\r\n";

        Assert.DoesNotMatch(QemuConsoleText.ReadyMarker(), echo);
        Assert.Matches(QemuConsoleText.ReadyMarker(), echo + "\u001b[?2004l\rLIVEIMAGE_READY\r\n");
        Assert.Equal("echo LIVEIMAGE''_READY", QemuConsoleText.ReadyProbe);
    }

    [Theory]
    [InlineData("[    5.1] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\r\n")]
    [InlineData("Unable to find a medium containing a live file system\r\n")]
    [InlineData("BusyBox v1.37.0 (Debian 1:1.37.0-6) built-in shell (ash)\r\n(initramfs) ")]
    public void Fatal_boot_messages_are_recognised(string text)
    {
        Assert.NotNull(QemuConsoleText.Find(QemuConsoleText.FatalBootMessage(), text, 0));
    }

    [Fact]
    public void A_normal_boot_is_not_fatal()
    {
        const string text = "[    0.000000] Linux version 6.12.117+deb13-amd64\r\n[    1.2] Freeing unused kernel image (initmem) memory\r\n[    2.0] Run /init as init process\r\n";
        Assert.Null(QemuConsoleText.Find(QemuConsoleText.FatalBootMessage(), text, 0));
    }

    [Fact]
    public void Clean_drops_terminal_codes_and_carriage_returns()
    {
        Assert.Equal("[  OK  ] Reached target getty.target.\n",
            QemuConsoleText.Clean("[\u001b[0;32m  OK  \u001b[0m] Reached target \u001b[0;1;39mgetty.target\u001b[0m.\r\n"));
        Assert.Equal("abc", QemuConsoleText.Clean("a\u001b]0;title\u0007b\u001bc\u001b(Bc"));
    }

    [Fact]
    public void Tail_keeps_the_last_non_empty_lines()
    {
        var text = string.Join("\r\n", Enumerable.Range(1, 30).Select(i => "line " + i)) + "\r\n\r\n";

        var tail = QemuConsoleText.Tail(text, 3);

        Assert.Equal("line 28\nline 29\nline 30", tail);
        Assert.Equal(20, QemuConsoleText.Tail(text).Split('\n').Length);
    }

    // ---- commands typed into the guest ---------------------------------------------------------

    [Fact]
    public void A_command_is_framed_by_markers_that_its_echo_cannot_match()
    {
        var line = QemuShellCommand.Build("id", 1);

        Assert.Equal("echo LIVEIMAGE''_BEGIN_1; eval 'id'; echo LIVEIMAGE''_END_1_$?", line);
        Assert.False(QemuShellCommand.TryParse(line + "\r\n", 0, 1, out _, out _));
    }

    [Theory]
    [InlineData("id", "'id'")]
    [InlineData("echo 'a b'", "'echo '\\''a b'\\'''")]
    [InlineData("sleep 1 &", "'sleep 1 &'")]
    public void Commands_are_single_quoted_for_eval(string command, string quoted)
    {
        Assert.Equal(quoted, QemuShellCommand.Quote(command));
    }

    // As seen on a real serial console: readline wraps the echoed line, bash adds bracketed-paste codes.
    private const string Transcript =
        "\u001b[?2004hroot@debian-live:~# echo LIVEIMAGE''_BEGIN_1; eval 'id'; echo LIVEIMAGE''_END_1_$\r$?\r\n" +
        "\u001b[?2004l\rLIVEIMAGE_BEGIN_1\r\n" +
        "uid=1000(user) gid=1000(user) groups=1000(user),27(sudo)\r\n" +
        "LIVEIMAGE_END_1_0\r\n" +
        "\u001b[?2004huser@debian-live:~$ echo LIVEIMAGE''_BEGIN_10; eval 'false'; echo LIVEIMAGE''_END_10_$?\r\n" +
        "\u001b[?2004l\rLIVEIMAGE_BEGIN_10\r\n" +
        "LIVEIMAGE_END_10_1\r\n" +
        "\u001b[?2004huser@debian-live:~$ ";

    [Fact]
    public void The_output_and_exit_code_are_cut_out_of_the_console_text()
    {
        Assert.True(QemuShellCommand.TryParse(Transcript, 0, 1, out var output, out var exitCode));

        Assert.Equal("uid=1000(user) gid=1000(user) groups=1000(user),27(sudo)", output);
        Assert.Equal(0, exitCode);
    }

    [Fact]
    public void Command_ids_are_not_confused_and_a_failing_exit_code_is_read()
    {
        Assert.True(QemuShellCommand.TryParse(Transcript, 0, 10, out var output, out var exitCode));

        Assert.Equal("", output);
        Assert.Equal(1, exitCode);
    }

    [Fact]
    public void Output_is_not_parsed_before_its_end_marker_is_complete()
    {
        var partial = Transcript[..Transcript.IndexOf("LIVEIMAGE_END_1_0", StringComparison.Ordinal)] + "LIVEIMAGE_END_1_";

        Assert.False(QemuShellCommand.TryParse(partial, 0, 1, out _, out _));
        Assert.False(QemuShellCommand.TryParse(Transcript, 0, 2, out _, out _));
    }

    [Fact]
    public void A_kernel_message_right_after_a_marker_does_not_hide_it()
    {
        // seen under load: printk output lands on the serial console right behind the shell's echo
        const string text = "LIVEIMAGE_BEGIN_1[  169.36] bochs-drm: vgaarb\r\nuid=1000(user) gid=1000(user)\r\nLIVEIMAGE_END_1_0[  169.58] [drm] Initialized\r\nuser@debian:~$ ";
        Assert.True(QemuShellCommand.TryParse(text, 0, 1, out var output, out var exitCode));
        Assert.Equal(0, exitCode);
        Assert.Contains("uid=1000(user)", output);
        Assert.False(QemuShellCommand.TryParse("LIVEIMAGE_BEGIN_1\r\nx\r\nLIVEIMAGE_END_1_1", 0, 1, out _, out _)); // exit code may go on: 1, 12, 127
    }

    [Fact]
    public void Searching_from_a_position_skips_earlier_output()
    {
        var from = Transcript.IndexOf("LIVEIMAGE_END_1_0", StringComparison.Ordinal);

        Assert.False(QemuShellCommand.TryParse(Transcript, from, 1, out _, out _));
    }

    // ---- serial console buffer -----------------------------------------------------------------

    [Fact]
    public async Task The_console_keeps_text_as_it_comes_and_wakes_a_waiting_reader()
    {
        var console = new QemuSerialConsole();
        console.Append("debian-live ");

        var writer = Task.Run(async () =>
        {
            await Task.Delay(50);
            console.Append("login: ");
        });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (console.Length == 12 && clock.Elapsed < TimeSpan.FromSeconds(10))
            console.WaitForMore(12, TimeSpan.FromSeconds(10));
        await writer;

        Assert.Equal("debian-live login: ", console.Read());
        Assert.Equal("login: ", console.Read(12));
        Assert.Equal("", console.Read(999));
        Assert.False(console.IsClosed);
        console.Close();
        Assert.True(console.IsClosed);
        console.WaitForMore(console.Length, TimeSpan.FromSeconds(10)); // returns at once when closed
    }

    // ---- task parameters (fail before anything is started) --------------------------------------

    [Theory]
    [InlineData("Modes", "bios-floppy", "LIVE5004")]
    [InlineData("Modes", "bios-usb-persistence", "LIVE5004")] // the image has no such BootMenuEntry
    [InlineData("Accelerator", "hvf", "LIVE5006")]
    [InlineData("Architecture", "sparc64", "LIVE1001")]
    public void Bad_parameters_are_coded_errors(string parameter, string value, string code)
    {
        var engine = new FakeBuildEngine();
        var task = new BootTest { BuildEngine = engine, IsoPath = "/nonexistent/live.iso", LogDirectory = "/nonexistent/logs" };
        typeof(BootTest).GetProperty(parameter)!.SetValue(task, value);

        Assert.False(task.Execute());
        var error = Assert.Single(engine.Errors);
        Assert.Equal(code, error.Code);
        Assert.Contains(value, error.Message);
        Assert.Empty(task.Results);
    }

    [Fact]
    public void A_menu_entry_to_boot_that_the_image_lacks_is_LIVE5026_naming_the_entries_it_has()
    {
        var engine = new FakeBuildEngine();
        var persistence = new Microsoft.Build.Utilities.TaskItem("persistence");
        persistence.SetMetadata("KernelArguments", "persistence");
        var task = new BootTest
        {
            BuildEngine = engine, IsoPath = "/nonexistent/live.iso", LogDirectory = "/nonexistent/logs",
            MenuEntries = [persistence], MenuEntriesToBoot = "persistence;persistance",
        };

        Assert.False(task.Execute());
        var error = Assert.Single(engine.Errors);
        Assert.Equal("LIVE5026", error.Code);
        Assert.Contains("'persistance'", error.Message);
        Assert.Contains("(its entries: persistence)", error.Message);
    }

    [Theory]
    [InlineData("bios-usb", "bios-usb;bios-usb-persistence")]
    [InlineData("bios-usb-persistence", "bios-usb-persistence")]
    [InlineData("bios-usb-persistence;bios-cdrom", "bios-usb-persistence;bios-cdrom")]
    [InlineData("bios-cdrom;bios-usb-persistence", "bios-cdrom;bios-usb-persistence")]
    public void A_menu_entry_to_boot_is_booted_once_in_the_first_iso_mode_unless_a_mode_names_it(string modes, string booted)
    {
        var persistence = new Microsoft.Build.Utilities.TaskItem("persistence");
        persistence.SetMetadata("KernelArguments", "persistence");
        var task = new BootTest { BuildEngine = new FakeBuildEngine(), Modes = modes, MenuEntries = [persistence], MenuEntriesToBoot = "persistence" };

        var result = task.ModesToBoot(QemuMachine.Amd64, netbootAvailable: false);

        Assert.Equal(booted.Split(';'), result.Select(m => m.Name));
        Assert.All(result.Where(m => m.Name.EndsWith("-persistence")), m => Assert.Equal("persistence", m.MenuEntry!.KernelArguments));
    }

    [Fact]
    public void A_missing_iso_is_an_error_naming_it()
    {
        var engine = new FakeBuildEngine();
        var task = new BootTest { BuildEngine = engine, IsoPath = "/nonexistent/live.iso", LogDirectory = "/nonexistent/logs" };

        Assert.False(task.Execute());
        Assert.Contains("/nonexistent/live.iso", Assert.Single(engine.Errors).Message);
    }
}
