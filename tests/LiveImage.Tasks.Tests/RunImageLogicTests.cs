using LiveImage.Tasks.BootTesting;
using LiveImage.Tasks.Diagnostics;
using Xunit;

namespace LiveImage.Tasks.Tests;

/// <summary>
/// What 'dotnet run' (the RunImage task) decides before qemu starts: the boot test's command line with a
/// user's differences, the boot mode words and whether there is a window. No qemu, no root.
/// </summary>
public class RunImageLogicTests
{
    private static IReadOnlyList<string> Args(QemuBootMode mode, bool window) =>
        QemuCommandLine.Build(new QemuLaunch(QemuMachine.Amd64, mode, QemuAccel.Tcg, "/images/live.iso", 1024, 4, "/c.fd", "/v.fd")
        {
            Interactive = new QemuInteractive(window),
        });

    private static List<string> Values(IReadOnlyList<string> args, string option) =>
        args.Select((a, i) => (a, i)).Where(x => x.a == option && x.i + 1 < args.Count).Select(x => args[x.i + 1]).ToList();

    [Fact]
    public void A_users_boot_lets_ctrl_c_end_qemu_and_gives_the_guest_a_network()
    {
        var args = Args(QemuBootMode.BiosCdrom, window: false);

        Assert.Equal(["stdio,id=console,signal=on"], Values(args, "-chardev"));
        Assert.Equal(["chardev:console"], Values(args, "-serial"));
        Assert.Equal(["user,model=virtio-net-pci"], Values(args, "-nic"));
        Assert.Equal(["none"], Values(args, "-display"));
        Assert.Equal(["1024"], Values(args, "-m"));
        Assert.Equal(["4"], Values(args, "-smp"));
        // the ISO is still never written to
        Assert.Contains("readonly=on", Assert.Single(Values(args, "-drive")));
    }

    [Fact]
    public void A_window_is_qemus_own_default_display()
    {
        Assert.Empty(Values(Args(QemuBootMode.UefiCdrom, window: true), "-display"));
    }

    [Theory]
    [InlineData("", "bios-cdrom")]
    [InlineData("bios", "bios-cdrom")]
    [InlineData("UEFI", "uefi-cdrom")]
    [InlineData("uefi-usb", "uefi-usb")]
    public void Boot_mode_words_name_an_iso_mode(string value, string mode)
    {
        Assert.Equal(mode, RunBootMode.Parse(value, QemuMachine.Amd64).Name);
    }

    [Fact]
    public void Arm64_boots_uefi_by_default_and_has_no_bios()
    {
        Assert.Equal("uefi-cdrom", RunBootMode.Parse("", QemuMachine.Arm64).Name);
        var e = Assert.Throws<LiveImageException>(() => RunBootMode.Parse("bios", QemuMachine.Arm64));
        Assert.StartsWith("LIVE5004", e.Message);
        Assert.DoesNotContain("bios", e.Message.Split("Use one of:")[1]);
    }

    [Theory]
    [InlineData("netboot")]
    [InlineData("floppy")]
    public void A_network_or_unknown_mode_is_LIVE5004_listing_the_words(string value)
    {
        var e = Assert.Throws<LiveImageException>(() => RunBootMode.Parse(value, QemuMachine.Amd64));
        Assert.StartsWith("LIVE5004", e.Message);
        Assert.Contains("bios, uefi, bios-cdrom", e.Message);
    }

    [Theory]
    [InlineData("auto", ":0", null, true)]
    [InlineData("auto", null, "wayland-0", true)]
    [InlineData("auto", "", "", false)]
    [InlineData("", null, null, false)]
    [InlineData("none", ":0", null, false)]
    [InlineData("window", null, null, true)]
    public void A_window_opens_where_a_display_exists_unless_told(string value, string? x11, string? wayland, bool window)
    {
        Assert.Equal(window, RunBootMode.WantsWindow(value, x11, wayland));
    }

    [Fact]
    public void An_unknown_display_word_is_null_for_LIVE5021()
    {
        Assert.Null(RunBootMode.WantsWindow("vnc", null, null));
    }
}
