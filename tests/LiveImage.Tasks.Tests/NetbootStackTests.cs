using System.Security.Cryptography;
using System.Text;
using LiveImage.Tasks.BootTesting;
using LiveImage.Tasks.Netboot;
using Xunit;

namespace LiveImage.Tasks.Tests;

/// <summary>
/// The netboot of stacks of modules: the manifest's format, the merged boot menus of a shared folder,
/// the initramfs addition (a cpio archive in front of the initrd) and MakeNetbootTree writing two
/// images that share modules into one folder. No qemu, no root.
/// </summary>
public class NetbootStackTests
{
    private const string Server = "10.0.2.2:8080";
    private static readonly string Hash = new('a', 64);

    // ---- manifest ------------------------------------------------------------------------------

    [Fact]
    public void A_manifest_lists_name_size_and_sha256_bottom_first_and_reads_back()
    {
        NetbootModule[] modules = [new("base.squashfs", 209715200, Hash), new("base-essential.squashfs", 1887436, new string('0', 64))];

        var text = NetbootManifest.Write(modules);

        Assert.Equal(NetbootManifest.Header + "\nbase.squashfs 209715200 " + Hash + "\nbase-essential.squashfs 1887436 " + new string('0', 64) + "\n", text);
        Assert.Equal(modules, NetbootManifest.Parse(text));
        Assert.Equal(modules[..1], NetbootManifest.Parse("# a comment\n\n  base.squashfs\t209715200   " + Hash.ToUpperInvariant() + "  \n"));
    }

    [Theory]
    [InlineData("base.squashfs 12")]
    [InlineData("base.squashfs twelve aaaa")]
    [InlineData("../etc/passwd 12 {0}")]
    [InlineData(".hidden 12 {0}")]
    [InlineData("base.squashfs 12 {0} extra")]
    [InlineData("base.squashfs 12 zz{0}")]
    public void A_malformed_manifest_line_is_named_by_its_number(string line)
    {
        var e = Assert.Throws<FormatException>(() => NetbootManifest.Parse("# header\n" + string.Format(line, Hash)));
        Assert.StartsWith("line 2 ", e.Message);
    }

    [Fact]
    public void A_module_is_described_by_its_size_and_sha256()
    {
        using var dir = new TempDirectory();
        var file = dir.File("m.squashfs", "module bytes");

        var module = NetbootModule.Of(file, "m.squashfs");

        Assert.Equal(new NetbootModule("m.squashfs", 12, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes("module bytes"))).ToLowerInvariant()), module);
    }

    // ---- menus ---------------------------------------------------------------------------------

    private static readonly NetbootImageEntry[] Two =
    [
        NetbootStackMenus.Entry("branding", "branding 1.0.0 (trixie, amd64)", "boot=live components", "console=ttyS0,115200n8", Server),
        NetbootStackMenus.Entry("webserver", "webserver 1.0.0 (trixie, amd64)", "boot=live components", "console=ttyS0,115200n8", Server),
    ];

    [Fact]
    public void Each_image_boots_its_own_kernel_and_initrd_with_its_manifest_url()
    {
        Assert.Equal("boot=live components liveimage.modules=http://10.0.2.2:8080/branding.modules console=ttyS0,115200n8", Two[0].KernelArguments);
        Assert.Equal(Two[0], NetbootStackMenus.ReadEntry("branding", NetbootStackMenus.WriteEntry(Two[0])));
    }

    [Fact]
    public void The_pxelinux_menu_offers_one_entry_per_image()
    {
        Assert.Equal(
            """
            SERIAL 0 115200
            UI menu.c32
            MENU TITLE Live images (netboot)
            PROMPT 0
            TIMEOUT 50
            DEFAULT branding
            LABEL branding
              MENU LABEL branding 1.0.0 (trixie, amd64)
              KERNEL branding.vmlinuz
              APPEND initrd=branding.initrd.img boot=live components liveimage.modules=http://10.0.2.2:8080/branding.modules console=ttyS0,115200n8
            LABEL webserver
              MENU LABEL webserver 1.0.0 (trixie, amd64)
              KERNEL webserver.vmlinuz
              APPEND initrd=webserver.initrd.img boot=live components liveimage.modules=http://10.0.2.2:8080/webserver.modules console=ttyS0,115200n8

            """.Replace("\r\n", "\n"), NetbootStackMenus.Pxelinux(Two, 5));
    }

    [Fact]
    public void The_grub_and_ipxe_menus_offer_one_entry_per_image()
    {
        var grub = NetbootStackMenus.Grub(Two, 5);
        Assert.Contains("set default=branding\n", grub);
        Assert.Contains("menuentry \"webserver 1.0.0 (trixie, amd64)\" --id webserver {\n    linux /webserver.vmlinuz boot=live components liveimage.modules=http://10.0.2.2:8080/webserver.modules console=ttyS0,115200n8\n    initrd /webserver.initrd.img\n}\n", grub);
        Assert.Equal(2, grub.Split("menuentry ").Length - 1);

        var ipxe = NetbootStackMenus.Ipxe(Two, Server, 5);
        Assert.StartsWith("#!ipxe\nmenu Live images (netboot)\nitem branding branding 1.0.0 (trixie, amd64)\nitem webserver webserver 1.0.0 (trixie, amd64)\nchoose --default branding --timeout 5000 image || exit\ngoto ${image}\n", ipxe);
        Assert.Contains(":webserver\nkernel http://10.0.2.2:8080/webserver.vmlinuz initrd=webserver.initrd.img boot=live components liveimage.modules=http://10.0.2.2:8080/webserver.modules console=ttyS0,115200n8\ninitrd http://10.0.2.2:8080/webserver.initrd.img\nboot\n", ipxe);
    }

    [Fact]
    public void The_boot_test_boots_its_own_image_from_the_test_server()
    {
        foreach (var menu in new[] { NetbootStackMenus.Pxelinux(Two, 5), NetbootStackMenus.Grub(Two, 5), NetbootStackMenus.Ipxe(Two, Server, 5) })
        {
            var staged = NetbootStackMenus.WithDefault(NetbootConfig.WithServer(menu, "10.0.2.2:41234"), "webserver");
            Assert.Contains("liveimage.modules=http://10.0.2.2:41234/webserver.modules", staged);
            Assert.DoesNotContain("liveimage.modules=http://10.0.2.2:8080/", staged);
            Assert.DoesNotContain("branding\n", staged.Split('\n').Where(l => l.Contains("DEFAULT") || l.Contains("default")).Select(l => l + "\n").FirstOrDefault() ?? "");
            Assert.Matches(@"DEFAULT webserver\n|set default=webserver\n|--default webserver ", staged);
        }
    }

    [Theory]
    [InlineData("console", true)]
    [InlineData("my-image_2.0+x", true)]
    [InlineData("has space", false)]
    [InlineData("-dash", false)]
    [InlineData("a/b", false)]
    public void An_image_name_must_fit_file_names_and_menu_labels(string name, bool valid) =>
        Assert.Equal(valid, NetbootStackMenus.IsImageName(name));

    // ---- the boot test reading the initramfs script's messages ----------------------------------

    [Theory]
    [InlineData("module base.squashfs from http://10.0.2.2:4000/base.squashfs failed its check: expected sha256 aa, actual sha256 bb", true)]
    [InlineData("module base.squashfs from http://10.0.2.2:4000/base.squashfs has 12 bytes, the manifest expects 13", true)]
    [InlineData("cannot download http://10.0.2.2:4000/console.modules: wget: can't connect to remote host (10.0.2.2): Connection refused (the server must be reachable)", false)]
    public void The_scripts_error_line_is_found_among_kernel_messages_and_classified(string message, bool checkFailed)
    {
        var console = "[   14.8] Run /init as init process\r\nBegin: liveimage.modules: base.squashfs (209817600 bytes) ... \r\nliveimage.modules: error: " + message + "\r\n(initramfs) ";
        var found = QemuConsoleText.Find(QemuConsoleText.ModulesError(), console, 0);

        Assert.NotNull(found);
        Assert.Equal("liveimage.modules: error: " + message, found.Value);
        Assert.Equal(checkFailed, QemuConsoleText.ModuleCheckFailure().IsMatch(found.Value));
        // the kernel's echo of its command line is not an error
        Assert.Null(QemuConsoleText.Find(QemuConsoleText.ModulesError(), "Kernel command line: boot=live liveimage.modules=http://10.0.2.2:8080/console.modules", 0));
    }

    // ---- initramfs addition --------------------------------------------------------------------

    [Fact]
    public void The_script_is_a_cpio_archive_in_front_of_the_initrd()
    {
        var archive = InitramfsAddition.Archive(NetbootStack.ScriptPath, Encoding.ASCII.GetBytes("#!/bin/sh\n"));

        Assert.Equal(0, archive.Length % 512);
        var text = Encoding.ASCII.GetString(archive);
        Assert.StartsWith("070701", text);
        Assert.Contains("usr/lib/live/boot\0", text);
        Assert.Contains(NetbootStack.ScriptPath + "\0", text);
        Assert.Contains("TRAILER!!!\0", text);
        Assert.Equal(archive, InitramfsAddition.Archive(NetbootStack.ScriptPath, Encoding.ASCII.GetBytes("#!/bin/sh\n"))); // the same bytes every time

        using var dir = new TempDirectory();
        var initrd = dir.File("initrd.img", "the image's initrd");
        var output = Path.Combine(dir.Path, "out.img");
        InitramfsAddition.Prepend(archive, initrd, output);
        Assert.Equal([.. archive, .. Encoding.ASCII.GetBytes("the image's initrd")], File.ReadAllBytes(output));
    }

    [Fact]
    public void Cpio_lists_the_script_executable()
    {
        if (!File.Exists("/usr/bin/cpio")) return; // cpio(1) is the judge, when the host has it
        using var dir = new TempDirectory();
        var archive = dir.File("a.cpio", "");
        File.WriteAllBytes(archive, InitramfsAddition.Archive(NetbootStack.ScriptPath, Encoding.ASCII.GetBytes("#!/bin/sh\necho hi\n")));
        var psi = new System.Diagnostics.ProcessStartInfo("/bin/sh", ["-c", $"cpio -itv < '{archive}'"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        var listing = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        Assert.Matches(@"-rwxr-xr-x .* 18 .* usr/lib/live/boot/9990-zz-liveimage-modules\.sh", listing);
        Assert.Matches(@"drwxr-xr-x .* usr/lib/live/boot\n", listing);
    }

    // ---- the netboot stage of two images sharing modules ---------------------------------------

    private static string Level(TempDirectory dir, string name, params (string Module, string Content)[] modules)
    {
        foreach (var (module, content) in modules) dir.File($"{name}/live/{module}", content);
        dir.File($"{name}/live/filesystem.module", string.Concat(modules.Select(m => m.Module + "\n")));
        dir.File($"{name}/live/vmlinuz", "kernel of " + name);
        dir.File($"{name}/live/initrd.img", "initrd of " + name);
        return Path.Combine(dir.Path, name, "live");
    }

    private static MakeNetbootTree Stage(TempDirectory dir, FakeBuildEngine engine, string name, string live, string server = Server) => new()
    {
        BuildEngine = engine,
        LiveDirectory = live,
        ModuleList = Path.Combine(live, "filesystem.module"),
        ImageName = name,
        MenuTitle = name + " 1.0.0",
        OutputDirectory = Path.Combine(dir.Path, "shared"),
        InitramfsScript = dir.File("script.sh", "#!/bin/sh\n"),
        Server = server,
        PxelinuxDirectory = Path.GetDirectoryName(dir.File("pxe/pxelinux.0", "pxe"))!,
        SyslinuxModulesDirectory = Path.GetDirectoryName(dir.File("bios/ldlinux.c32", "c32"))!,
        Architecture = "amd64",
        GrubDirectory = "/usr/lib/grub", // grub-mkimage makes the UEFI network image (package grub-efi-amd64-bin, a prerequisite)
    };

    [Fact]
    public void Two_images_share_their_common_modules_in_one_folder_and_each_gets_a_manifest()
    {
        using var dir = new TempDirectory();
        dir.File("pxe/lpxelinux.0", "pxe");
        foreach (var m in new[] { "menu.c32", "libutil.c32" }) dir.File("bios/" + m, "c32");
        var web = Level(dir, "web", ("base.squashfs", "base"), ("base-web.squashfs", "web"));
        var brand = Level(dir, "brand", ("base.squashfs", "base"), ("base-brand.squashfs", "brand"));
        var shared = Path.Combine(dir.Path, "shared");

        var engine = new FakeBuildEngine();
        Assert.True(Stage(dir, engine, "web", web).Execute(), engine.AllErrors);
        var baseModule = new FileInfo(Path.Combine(shared, "base.squashfs")).LastWriteTimeUtc;
        Assert.True(Stage(dir, engine, "brand", brand).Execute(), engine.AllErrors);
        Assert.True(Stage(dir, engine, "brand", brand).Execute(), engine.AllErrors); // again: its files are links to the same files already

        Assert.Equal(["base-brand.squashfs", "base-web.squashfs", "base.squashfs", "boot.ipxe", "bootx64.efi", "brand.initrd.img", "brand.menu", "brand.modules", "brand.vmlinuz",
                      "ldlinux.c32", "libutil.c32", "lpxelinux.0", "menu.c32", "pxelinux.0",
                      "web.initrd.img", "web.menu", "web.modules", "web.vmlinuz"],
            Directory.GetFiles(shared).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        // brand's base.squashfs is a file of its own with the same content: the one there is kept
        Assert.Equal(baseModule, new FileInfo(Path.Combine(shared, "base.squashfs")).LastWriteTimeUtc);
        Assert.Empty(engine.Warnings);
        var pxelinux = File.ReadAllText(Path.Combine(shared, "pxelinux.cfg/default"));
        Assert.Contains("LABEL brand\n", pxelinux);
        Assert.Equal(2, pxelinux.Split("\nLABEL ").Length - 1);
        Assert.Equal(2, File.ReadAllText(Path.Combine(shared, "grub/grub.cfg")).Split("menuentry ").Length - 1);
        var webModules = NetbootManifest.Parse(File.ReadAllText(Path.Combine(shared, "web.modules")));
        Assert.Equal(["base.squashfs", "base-web.squashfs"], webModules.Select(m => m.Name));
        Assert.Equal(NetbootModule.Of(Path.Combine(web, "base.squashfs"), "base.squashfs"), webModules[0]);
        Assert.Equal("kernel of web", File.ReadAllText(Path.Combine(shared, "web.vmlinuz")));
        var initrd = File.ReadAllBytes(Path.Combine(shared, "brand.initrd.img"));
        Assert.EndsWith("initrd of brand", Encoding.ASCII.GetString(initrd));
        Assert.Contains(NetbootStack.ScriptPath, Encoding.ASCII.GetString(initrd));
        Assert.Equal(["brand", "web"], NetbootStack.Entries(shared).Select(e => e.Image));

        // a new base under web: brand's manifest lists the old one (LIVE4030); a module no manifest lists goes
        File.Delete(Path.Combine(web, "base.squashfs")); // a new file, as mksquashfs writes one (the folder's is a link to the old)
        File.WriteAllText(Path.Combine(web, "base.squashfs"), "base 2");
        File.WriteAllText(Path.Combine(web, "filesystem.module"), "base.squashfs\n");
        engine = new FakeBuildEngine();
        Assert.True(Stage(dir, engine, "web", web).Execute(), engine.AllErrors);
        Assert.Equal(["LIVE4030"], engine.Warnings.Select(w => w.Code));
        Assert.Contains("brand.modules", engine.Warnings[0].Message);
        Assert.Equal("base 2", File.ReadAllText(Path.Combine(shared, "base.squashfs")));
        Assert.False(File.Exists(Path.Combine(shared, "base-web.squashfs")));
        Assert.True(File.Exists(Path.Combine(shared, "base-brand.squashfs")));
    }

    [Fact]
    public void A_stack_needs_an_ip_address_and_a_plain_image_name_and_refuses_a_flat_images_folder()
    {
        using var dir = new TempDirectory();
        var live = Level(dir, "web", ("base.squashfs", "base"));
        var engine = new FakeBuildEngine();
        var named = Stage(dir, engine, "web", live, "boot.example:8080");
        named.ValidateOnly = true;
        Assert.False(named.Execute());
        Assert.Equal(["LIVE4031"], engine.ErrorCodes);

        engine = new FakeBuildEngine();
        var bad = Stage(dir, engine, "my image", live);
        bad.ValidateOnly = true;
        Assert.False(bad.Execute());
        Assert.Equal(["LIVE4032"], engine.ErrorCodes);

        dir.File("shared/filesystem.squashfs", "a flat image's");
        engine = new FakeBuildEngine();
        Assert.False(Stage(dir, engine, "web", live).Execute());
        Assert.Equal(["LIVE4033"], engine.ErrorCodes);
    }

    [Fact]
    public void A_flat_image_refuses_a_folder_of_stacks()
    {
        using var dir = new TempDirectory();
        dir.File("live/vmlinuz", "kernel");
        dir.File("live/initrd.img", "initrd");
        dir.File("live/filesystem.squashfs", "root");
        dir.File("netboot/console.modules", NetbootManifest.Header + "\n");
        var engine = new FakeBuildEngine();

        Assert.False(new MakeNetbootTree { BuildEngine = engine, LiveDirectory = Path.Combine(dir.Path, "live"), OutputDirectory = Path.Combine(dir.Path, "netboot") }.Execute());
        Assert.Equal(["LIVE4033"], engine.ErrorCodes);
        Assert.True(File.Exists(Path.Combine(dir.Path, "netboot/console.modules")));
    }

    // ---- LiveModule items on top --------------------------------------------------------------

    private static Microsoft.Build.Utilities.TaskItem[] Top(TempDirectory dir, string name, string content) => [new(dir.File("saved/" + name, content))];

    [Fact]
    public void An_image_of_one_squashfs_with_a_live_module_netboots_the_stack_of_both_and_back_to_fetch_without_it()
    {
        using var dir = new TempDirectory();
        dir.File("pxe/lpxelinux.0", "pxe");
        foreach (var m in new[] { "menu.c32", "libutil.c32" }) dir.File("bios/" + m, "c32");
        var live = Level(dir, "flat", ("filesystem.squashfs", "root"));
        File.Delete(Path.Combine(live, "filesystem.module"));
        var folder = Path.Combine(dir.Path, "shared");
        var engine = new FakeBuildEngine();
        var fetch = Stage(dir, engine, "flat", live);
        fetch.ModuleList = "";
        Assert.True(fetch.Execute(), engine.AllErrors); // its fetch= folder first
        Assert.True(File.Exists(Path.Combine(folder, "vmlinuz")));

        var stage = Stage(dir, engine, "flat", live);
        stage.ModuleList = "";
        stage.TopModules = Top(dir, "mychanges.squashfs", "changes");
        Assert.True(stage.Execute(), engine.AllErrors);

        Assert.Equal(["filesystem.squashfs", "mychanges.squashfs"], NetbootManifest.Parse(File.ReadAllText(Path.Combine(folder, "flat.modules"))).Select(m => m.Name));
        Assert.Equal("changes", File.ReadAllText(Path.Combine(folder, "mychanges.squashfs")));
        Assert.False(File.Exists(Path.Combine(folder, "vmlinuz"))); // the fetch= folder it replaced
        Assert.Contains("liveimage.modules=http://" + Server + "/flat.modules", File.ReadAllText(Path.Combine(folder, "pxelinux.cfg/default")));

        // the module taken out again: the fetch= folder replaces its own stack
        Assert.True(fetch.Execute(), engine.AllErrors);
        Assert.False(File.Exists(Path.Combine(folder, "flat.modules")));
        Assert.Contains("fetch=http://" + Server + "/filesystem.squashfs", File.ReadAllText(Path.Combine(folder, "pxelinux.cfg/default")));
        Assert.Empty(engine.Warnings);
    }

    [Fact]
    public void A_stack_lists_its_live_modules_last_and_not_those_an_earlier_iso_stage_added_to_its_module_list()
    {
        using var dir = new TempDirectory();
        dir.File("pxe/lpxelinux.0", "pxe");
        foreach (var m in new[] { "menu.c32", "libutil.c32" }) dir.File("bios/" + m, "c32");
        var web = Level(dir, "web", ("base.squashfs", "base"), ("base-web.squashfs", "web"), ("old.squashfs", "old changes"));
        var engine = new FakeBuildEngine();
        var stage = Stage(dir, engine, "web", web);
        stage.TopModules = Top(dir, "new.squashfs", "new changes");
        stage.TopModulesRecord = dir.File("obj/live-modules.txt", "old.squashfs\n"); // the last ISO stage's, which put old.squashfs in the list

        Assert.True(stage.Execute(), engine.AllErrors);

        var folder = Path.Combine(dir.Path, "shared");
        Assert.Equal(["base.squashfs", "base-web.squashfs", "new.squashfs"], NetbootManifest.Parse(File.ReadAllText(Path.Combine(folder, "web.modules"))).Select(m => m.Name));
        Assert.False(File.Exists(Path.Combine(folder, "old.squashfs")));
    }
}
