using System.Net.Sockets;
using System.Net;
using System.Text;
using System.Xml.Linq;
using LiveImage.Tasks.BootTesting;
using LiveImage.Tasks.Iso;
using LiveImage.Tasks.Netboot;
using Xunit;

namespace LiveImage.Tasks.Tests;

/// <summary>
/// The netboot folder's configurations, the netboot boot-test mode's qemu arguments, the file server
/// behind -t:Serve and the netboot mode, the built-in boot checks' judges and the JUnit report.
/// No qemu, no root.
/// </summary>
public class NetbootTests
{
    private const string Server = "10.0.2.2:8080";
    private static readonly IReadOnlyList<BootEntry> Entries =
        NetbootConfig.Entries("Live 1.0 (trixie, amd64)", "boot=live components", "console=tty0 console=ttyS0,115200n8", Server);

    // ---- configurations ------------------------------------------------------------------------

    [Fact]
    public void Every_entry_fetches_the_squashfs_from_the_server_after_the_live_arguments()
    {
        Assert.Equal("boot=live components fetch=http://10.0.2.2:8080/filesystem.squashfs console=tty0 console=ttyS0,115200n8", Entries[0].KernelArguments);
        Assert.StartsWith("boot=live components fetch=http://10.0.2.2:8080/filesystem.squashfs memtest noapic", Entries[1].KernelArguments);
        Assert.EndsWith("console=ttyS0,115200n8", Entries[1].KernelArguments);
    }

    [Fact]
    public void Pxelinux_config_loads_kernel_and_initrd_relative_to_the_tftp_root_on_the_serial_console()
    {
        var cfg = NetbootConfig.Pxelinux("Live 1.0 (trixie, amd64)", Entries, 5);

        Assert.Equal(
            """
            SERIAL 0 115200
            UI menu.c32
            MENU TITLE Live 1.0 (trixie, amd64)
            PROMPT 0
            TIMEOUT 50
            DEFAULT live
            LABEL live
              MENU LABEL Live 1.0 (trixie, amd64)
              KERNEL vmlinuz
              APPEND initrd=initrd.img boot=live components fetch=http://10.0.2.2:8080/filesystem.squashfs console=tty0 console=ttyS0,115200n8
            LABEL failsafe
              MENU LABEL Live 1.0 (trixie, amd64) (fail-safe mode)
              KERNEL vmlinuz
              APPEND initrd=initrd.img boot=live components fetch=http://10.0.2.2:8080/filesystem.squashfs memtest noapic noapm nodma nomce nolapic nomodeset nosmp nosplash vga=normal console=tty0 console=ttyS0,115200n8

            """.Replace("\r\n", "\n"), cfg);
    }

    [Fact]
    public void Grub_network_config_loads_from_the_tftp_root_and_uses_the_serial_console()
    {
        var cfg = NetbootConfig.Grub(Entries, 5);

        Assert.StartsWith("serial --unit=0 --speed=115200\nterminal_input console serial\nterminal_output console serial\nset default=0\nset timeout=5\n", cfg);
        Assert.Contains("menuentry \"Live 1.0 (trixie, amd64)\" {\n    linux /vmlinuz boot=live components fetch=http://10.0.2.2:8080/filesystem.squashfs console=tty0 console=ttyS0,115200n8\n    initrd /initrd.img\n}\n", cfg);
        Assert.Equal(2, cfg.Split("menuentry").Length - 1);
        Assert.Equal("/grub", NetbootConfig.GrubPrefix);
        Assert.Equal("grub/grub.cfg", NetbootConfig.GrubConfig);
        Assert.Contains("efinet", NetbootConfig.GrubNetModules);
        Assert.Contains("tftp", NetbootConfig.GrubNetModules);
    }

    [Fact]
    public void Ipxe_script_loads_everything_over_http_and_names_the_initrd_for_efi_stub_kernels()
    {
        var script = NetbootConfig.Ipxe(Entries[0], Server);

        Assert.Equal(
            """
            #!ipxe
            echo Live 1.0 (trixie, amd64)
            kernel http://10.0.2.2:8080/vmlinuz initrd=initrd.img boot=live components fetch=http://10.0.2.2:8080/filesystem.squashfs console=tty0 console=ttyS0,115200n8
            initrd http://10.0.2.2:8080/initrd.img
            boot

            """.Replace("\r\n", "\n"), script);
    }

    [Theory]
    [InlineData("10.0.2.2:8080", true)]
    [InlineData("10.0.2.2", true)]
    [InlineData("boot.example.org", true)]
    [InlineData("pxe-1.lan:80", true)]
    [InlineData("[fd00::1]:8080", true)]
    [InlineData("http://10.0.2.2:8080", false)]
    [InlineData("10.0.2.2:8080/live", false)]
    [InlineData("10.0.2.2:0", false)]
    [InlineData("10.0.2.2:65536", false)]
    [InlineData("host name", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void NetbootServer_must_be_host_and_optional_port(string? server, bool valid)
    {
        Assert.Equal(valid, NetbootConfig.IsValidServer(server));
    }

    [Fact]
    public void The_boot_test_points_fetch_at_its_own_server_and_leaves_the_rest()
    {
        var pxelinux = NetbootConfig.Pxelinux("t", Entries, 5);

        var staged = NetbootConfig.WithServer(pxelinux, "10.0.2.2:41234");

        Assert.DoesNotContain("10.0.2.2:8080", staged);
        Assert.Equal(2, staged.Split("fetch=http://10.0.2.2:41234/filesystem.squashfs").Length - 1);
        Assert.Equal(pxelinux.Replace("10.0.2.2:8080", "10.0.2.2:41234"), staged);
    }

    [Fact]
    public void MakeNetbootTree_rejects_a_bad_server_and_modules_before_any_work()
    {
        var engine = new FakeBuildEngine();
        var bad = new MakeNetbootTree { BuildEngine = engine, LiveDirectory = "/nonexistent", OutputDirectory = "/nonexistent/out", Server = "http://x/", ValidateOnly = true };
        Assert.False(bad.Execute());
        Assert.Equal(["LIVE4021"], engine.ErrorCodes);

        engine = new FakeBuildEngine();
        var modules = new MakeNetbootTree { BuildEngine = engine, LiveDirectory = "/nonexistent", OutputDirectory = "/nonexistent/out", Modules = true, ValidateOnly = true };
        Assert.False(modules.Execute());
        Assert.Equal(["LIVE4020"], engine.ErrorCodes);

        engine = new FakeBuildEngine();
        var ok = new MakeNetbootTree { BuildEngine = engine, LiveDirectory = "/nonexistent", OutputDirectory = "/nonexistent/out", ValidateOnly = true };
        Assert.True(ok.Execute(), engine.AllErrors);
    }

    [Fact]
    public void MakeNetbootTree_without_a_squashfs_is_LIVE4022_and_leaves_no_folder()
    {
        using var dir = new TempDirectory();
        dir.File("live/vmlinuz", "kernel");
        dir.File("live/initrd.img", "initrd");
        var engine = new FakeBuildEngine();
        var task = new MakeNetbootTree { BuildEngine = engine, LiveDirectory = Path.Combine(dir.Path, "live"), OutputDirectory = Path.Combine(dir.Path, "netboot") };

        Assert.False(task.Execute());
        Assert.Equal(["LIVE4022"], engine.ErrorCodes);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "netboot")));
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "netboot.tmp")));
    }

    [Fact]
    public void Files_are_hard_linked_when_the_file_system_allows()
    {
        using var dir = new TempDirectory();
        var source = dir.File("a/squashfs", "data");

        Assert.True(FileLinks.LinkOrCopy(source, Path.Combine(dir.Path, "b/squashfs")));
        File.AppendAllText(source, "+");
        Assert.Equal("data+", File.ReadAllText(Path.Combine(dir.Path, "b/squashfs")));
    }

    // ---- qemu arguments of the network modes ---------------------------------------------------

    private static List<string> Values(IReadOnlyList<string> args, string option) =>
        args.Select((a, i) => (a, i)).Where(x => x.a == option && x.i + 1 < args.Count).Select(x => args[x.i + 1]).ToList();

    [Fact]
    public void Netboot_has_a_pxe_network_card_on_the_user_network_with_tftp_and_no_disk()
    {
        var args = QemuCommandLine.Build(new QemuLaunch(QemuMachine.Amd64, QemuBootMode.Netboot, QemuAccel.Tcg, "", 2048, 2, "", "",
            TftpDirectory: "/b/a,b/tftp", BootFile: "pxelinux.0"));

        Assert.Equal(["user,id=net0,tftp=/b/a,,b/tftp,bootfile=pxelinux.0"], Values(args, "-netdev"));
        Assert.Equal(["virtio-net-pci,netdev=net0,bootindex=0"], Values(args, "-device"));
        Assert.Empty(Values(args, "-nic"));
        Assert.Empty(Values(args, "-drive"));
        Assert.Equal(["none"], Values(args, "-monitor"));
    }

    [Fact]
    public void Netboot_uefi_adds_the_firmware_and_boots_the_grub_image()
    {
        var args = QemuCommandLine.Build(new QemuLaunch(QemuMachine.Amd64, QemuBootMode.NetbootUefi, QemuAccel.Tcg, "", 2048, 2,
            "/usr/share/OVMF/OVMF_CODE_4M.fd", "/tmp/v.fd", TftpDirectory: "/t", BootFile: "bootx64.efi"));

        Assert.Equal(2, Values(args, "-drive").Count(d => d.StartsWith("if=pflash", StringComparison.Ordinal)));
        Assert.Equal(["user,id=net0,tftp=/t,bootfile=bootx64.efi"], Values(args, "-netdev"));
    }

    [Fact]
    public void A_qmp_socket_is_added_for_screenshots_without_a_monitor_on_the_console()
    {
        var args = QemuCommandLine.Build(new QemuLaunch(QemuMachine.Amd64, QemuBootMode.BiosCdrom, QemuAccel.Tcg, "/i.iso", 2048, 2, "", "",
            QmpSocket: "/run/x/qmp.sock"));

        Assert.Equal(["unix:/run/x/qmp.sock,server=on,wait=off"], Values(args, "-qmp"));
        Assert.Equal(["none"], Values(args, "-monitor"));
        Assert.Equal(["chardev:console"], Values(args, "-serial"));
    }

    [Fact]
    public void The_screendump_command_asks_for_png_and_falls_back_to_qemus_default()
    {
        Assert.Equal("""{"execute":"screendump","arguments":{"filename":"/l/netboot.png","format":"png"}}""", QemuMonitor.Command("/l/netboot.png", "png"));
        Assert.Equal("""{"execute":"screendump","arguments":{"filename":"/l/netboot.ppm"}}""", QemuMonitor.Command("/l/netboot.ppm", null));
    }

    [Fact]
    public void A_socket_path_too_long_for_a_unix_socket_goes_to_the_temporary_directory()
    {
        Assert.Equal("/short/qmp.sock", QemuMonitor.SocketPath("/short", "qmp.sock"));
        var longDir = "/" + new string('d', 120);
        var path = QemuMonitor.SocketPath(longDir, "qmp.sock");
        Assert.StartsWith(Path.GetTempPath(), path);
        Assert.True(Encoding.UTF8.GetByteCount(path) <= QemuMonitor.MaxSocketPath);
    }

    [Fact]
    public void A_network_loader_banner_counts_as_a_sign_of_life_for_the_kvm_probe()
    {
        Assert.Matches(QemuConsoleText.NetworkLoaderBanner(), "PXELINUX 6.04 PXE 20200816 Copyright (C) 1994-2015 H. Peter Anvin et al\r\n");
        Assert.Matches(QemuConsoleText.NetworkLoaderBanner(), "                             GNU GRUB  version 2.06-13+deb12u2\r\n");
        Assert.DoesNotMatch(QemuConsoleText.NetworkLoaderBanner(), "iPXE initialising devices...");
    }

    // ---- the file server -----------------------------------------------------------------------

    [Theory]
    [InlineData(null, 100, null, null)]
    [InlineData("bytes=0-9", 100, 0L, 10L)]
    [InlineData("bytes=90-", 100, 90L, 10L)]
    [InlineData("bytes=-10", 100, 90L, 10L)]
    [InlineData("bytes=-1000", 100, 0L, 100L)]
    [InlineData("bytes=50-1000", 100, 50L, 50L)]
    [InlineData("bytes=0-0", 100, 0L, 1L)]
    [InlineData("items=0-9", 100, null, null)]
    [InlineData("bytes=0-1,5-6", 100, null, null)]
    [InlineData("bytes=9-5", 100, null, null)]
    [InlineData("bytes=abc", 100, null, null)]
    public void Byte_ranges_are_parsed_as_rfc_9110_says(string? header, long size, long? start, long? length)
    {
        var range = HttpByteRange.Parse(header, size);

        if (start is null) Assert.Null(range);
        else Assert.Equal(new HttpByteRange(start.Value, length!.Value, true), range);
    }

    [Theory]
    [InlineData("bytes=100-")]
    [InlineData("bytes=200-300")]
    [InlineData("bytes=-0")]
    public void A_range_past_the_end_is_unsatisfiable(string header)
    {
        Assert.Equal(false, HttpByteRange.Parse(header, 100)?.Satisfiable);
    }

    [Theory]
    [InlineData("/filesystem.squashfs", "/srv/netboot/filesystem.squashfs")]
    [InlineData("/pxelinux.cfg/default", "/srv/netboot/pxelinux.cfg/default")]
    [InlineData("/", "/srv/netboot")]
    [InlineData("//vmlinuz", "/srv/netboot/vmlinuz")]
    [InlineData("/a%20b", "/srv/netboot/a b")]
    [InlineData("/../etc/passwd", null)]
    [InlineData("/%2e%2e/etc/passwd", null)]
    [InlineData("/grub/../../x", null)]
    [InlineData("/a%00b", null)]
    [InlineData("/a%5cb", null)]
    public void Request_paths_never_leave_the_root(string requestPath, string? expected)
    {
        Assert.Equal(expected, StaticHttpServer.MapPath("/srv/netboot", requestPath));
    }

    [Fact]
    public void Request_heads_are_parsed_with_the_range_header()
    {
        var head = HttpRequestHead.Parse("GET /filesystem.squashfs?x=1 HTTP/1.1\r\nHost: 10.0.2.2:8080\r\nrange: bytes=5-\r\nUser-Agent: Wget");

        Assert.Equal(new HttpRequestHead("GET", "/filesystem.squashfs?x=1", "/filesystem.squashfs", "bytes=5-"), head);
        Assert.Equal("/vmlinuz", HttpRequestHead.Parse("GET http://10.0.2.2:8080/vmlinuz HTTP/1.0")!.Path);
        Assert.Null(HttpRequestHead.Parse("hello"));
        Assert.Null(HttpRequestHead.Parse("GET /x SPDY/3"));
    }

    private static (string Head, byte[] Body) Request(int port, string request)
    {
        using var client = new TcpClient();
        client.Connect(IPAddress.Loopback, port);
        client.ReceiveTimeout = 10000;
        var stream = client.GetStream();
        stream.Write(Encoding.ASCII.GetBytes(request));
        using var all = new MemoryStream();
        stream.CopyTo(all); // the server closes after one response
        var bytes = all.ToArray();
        var split = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        return (Encoding.ASCII.GetString(bytes, 0, split), bytes[(split + 4)..]);
    }

    [Fact]
    public void The_server_answers_get_head_and_ranges_and_refuses_what_is_outside_its_root()
    {
        using var dir = new TempDirectory();
        var content = Enumerable.Range(0, 300_000).Select(i => (byte)(i % 251)).ToArray();
        File.WriteAllBytes(Path.Combine(dir.Path, "filesystem.squashfs"), content);
        dir.File("pxelinux.cfg/default", "DEFAULT live\n");
        File.WriteAllText(Path.Combine(Path.GetDirectoryName(dir.Path)!, Path.GetFileName(dir.Path) + "-secret"), "no");
        var lines = new List<string>();
        using var server = StaticHttpServer.Start(dir.Path, IPAddress.Loopback, 0, l => { lock (lines) lines.Add(l); });
        try
        {
            var (head, body) = Request(server.Port, "GET /filesystem.squashfs HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 200 OK", head);
            Assert.Contains("Content-Length: 300000", head);
            Assert.Contains("Accept-Ranges: bytes", head);
            Assert.Equal(content, body);

            (head, body) = Request(server.Port, "GET /filesystem.squashfs HTTP/1.1\r\nRange: bytes=299990-\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 206 Partial Content", head);
            Assert.Contains("Content-Range: bytes 299990-299999/300000", head);
            Assert.Equal(content[299990..], body);

            (head, body) = Request(server.Port, "HEAD /filesystem.squashfs HTTP/1.0\r\n\r\n");
            Assert.Contains("Content-Length: 300000", head);
            Assert.Empty(body);

            (head, _) = Request(server.Port, "GET /filesystem.squashfs HTTP/1.1\r\nRange: bytes=300000-\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 416", head);
            Assert.Contains("Content-Range: bytes */300000", head);

            (head, body) = Request(server.Port, "GET /pxelinux.cfg/default HTTP/1.1\r\n\r\n");
            Assert.Contains("Content-Type: text/plain", head);
            Assert.Equal("DEFAULT live\n", Encoding.ASCII.GetString(body));

            Assert.StartsWith("HTTP/1.1 404", Request(server.Port, $"GET /../{Path.GetFileName(dir.Path)}-secret HTTP/1.1\r\n\r\n").Head);
            Assert.StartsWith("HTTP/1.1 404", Request(server.Port, "GET /nothing HTTP/1.1\r\n\r\n").Head);
            Assert.StartsWith("HTTP/1.1 405", Request(server.Port, "POST /filesystem.squashfs HTTP/1.1\r\n\r\n").Head);
            Assert.StartsWith("HTTP/1.1 400", Request(server.Port, "nonsense\r\n\r\n").Head);
            (head, body) = Request(server.Port, "GET / HTTP/1.1\r\n\r\n");
            Assert.Equal("filesystem.squashfs\npxelinux.cfg/\n", Encoding.ASCII.GetString(body));
        }
        finally
        {
            File.Delete(Path.Combine(Path.GetDirectoryName(dir.Path)!, Path.GetFileName(dir.Path) + "-secret"));
        }
        lock (lines) Assert.Contains(lines, l => l.Contains("\"GET /filesystem.squashfs\" 206 10 range bytes=299990-", StringComparison.Ordinal));
    }

    [Fact]
    public void Stopping_the_server_closes_open_connections_and_frees_the_port()
    {
        using var dir = new TempDirectory();
        var server = StaticHttpServer.Start(dir.Path, IPAddress.Loopback, 0);
        var port = server.Port;
        using var idle = new TcpClient();
        idle.Connect(IPAddress.Loopback, port); // never sends a request

        var clock = System.Diagnostics.Stopwatch.StartNew();
        server.Dispose();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"stopping took {clock.Elapsed}");

        idle.ReceiveTimeout = 5000;
        Assert.Equal(0, ReadOrZero(idle));
        using var again = StaticHttpServer.Start(dir.Path, IPAddress.Loopback, port);
        Assert.Equal(port, again.Port);
    }

    private static int ReadOrZero(TcpClient client)
    {
        try { return client.GetStream().Read(new byte[16]); }
        catch (IOException) { return 0; }
    }

    [Fact]
    public void A_port_in_use_is_a_socket_error()
    {
        using var dir = new TempDirectory();
        using var first = StaticHttpServer.Start(dir.Path, IPAddress.Loopback, 0);
        Assert.ThrowsAny<SocketException>(() => StaticHttpServer.Start(dir.Path, IPAddress.Loopback, first.Port).Dispose());
    }

    [Fact]
    public async Task Serve_stops_when_the_build_is_cancelled_and_reports_no_error()
    {
        using var dir = new TempDirectory();
        dir.File("boot.ipxe", "#!ipxe\n");
        var engine = new FakeBuildEngine();
        var task = new ServeNetboot { BuildEngine = engine, Directory = dir.Path, Port = 0 };
        var run = Task.Run(task.Execute);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (task.Url.Length == 0 && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.StartsWith("http://127.0.0.1:", task.Url);
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
            Assert.Equal("#!ipxe\n", await http.GetStringAsync(task.Url + "boot.ipxe"));

        task.Cancel();
        var finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.True(finished == run, "Serve did not stop after Cancel");
        Assert.True(await run, engine.AllErrors);
        var port = new Uri(task.Url).Port;
        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start(); // the port is free again
        listener.Stop();
    }

    [Fact]
    public void Serve_without_a_netboot_folder_is_LIVE4024()
    {
        var engine = new FakeBuildEngine();
        var task = new ServeNetboot { BuildEngine = engine, Directory = "/nonexistent/netboot", Port = 0 };

        Assert.False(task.Execute());
        Assert.Equal(["LIVE4024"], engine.ErrorCodes);
    }

    // ---- built-in checks -----------------------------------------------------------------------

    [Fact]
    public void System_state_and_failed_units_are_read_from_the_check_output()
    {
        var (state, failed) = QemuBuiltInChecks.ParseSystemState("state: degraded\nsystemd-networkd-wait-online.service loaded failed failed Wait for Network\n● foo.mount loaded failed failed Foo\n");

        Assert.Equal("degraded", state);
        Assert.Equal(["systemd-networkd-wait-online.service", "foo.mount"], failed);
        Assert.True(QemuBuiltInChecks.SystemStateIsAcceptable("running"));
        Assert.True(QemuBuiltInChecks.SystemStateIsAcceptable("degraded"));
        Assert.False(QemuBuiltInChecks.SystemStateIsAcceptable("starting"));
        Assert.False(QemuBuiltInChecks.SystemStateIsAcceptable("maintenance"));
        var (none, noUnits) = QemuBuiltInChecks.ParseSystemState("state: \n");
        Assert.Equal("", none);
        Assert.Empty(noUnits);
    }

    [Fact]
    public void A_failed_unit_fails_the_boot_unless_the_project_allows_it_by_name_or_glob()
    {
        string[] failed = ["ssh.service", "foo.mount", "systemd-networkd-wait-online.service"];

        Assert.Equal(failed, QemuBuiltInChecks.NotAllowed(failed, []));
        Assert.Equal(["ssh.service"], QemuBuiltInChecks.NotAllowed(failed, ["foo.mount", "systemd-networkd-*"]));
        Assert.Empty(QemuBuiltInChecks.NotAllowed(failed, ["*.service", "foo.mount"]));
        Assert.Equal(["ssh.service"], QemuBuiltInChecks.NotAllowed(["ssh.service"], ["sshd.service"]));
    }

    [Theory]
    [InlineData("root:!$y$j9T$abc:20000:0:99999:7:::", true)]
    [InlineData("root:*:20000:0:99999:7:::", true)]
    [InlineData("root:!*:20000:0:99999:7:::", true)]
    [InlineData("We trust you have received the usual lecture\nLIVEIMAGE_SUDO: \nroot:$y$j9T$abc:20000:0:99999:7:::", false)]
    [InlineData("root::20000:0:99999:7:::", false)]
    [InlineData("Sorry, try again.\nsudo: 3 incorrect password attempts", null)]
    public void Root_is_locked_when_its_hash_cannot_match_any_password(string output, bool? locked)
    {
        Assert.Equal(locked, QemuBuiltInChecks.RootPasswordIsLocked(output));
    }

    private const string Sources = """
        ==> /etc/apt/sources.list
        # generated
        deb http://mirror.example/debian trixie main
        deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://mirror.example/debian/ trixie-updates main

        ==> /etc/apt/sources.list.d/debian.sources
        Types: deb
        URIs: http://mirror.example/debian
        Suites: trixie
        Components: main

        Types: deb
        URIs: file:/var/cache/build
        Suites: ./
        Enabled: no

        ==> /etc/apt/sources.list.d/local.list
        deb [trusted=yes] copy:/srv/cache ./

        """;

    [Fact]
    public void Apt_sources_are_read_from_one_line_and_deb822_files()
    {
        var sources = QemuBuiltInChecks.ParseAptSources(Sources.Replace("\r\n", "\n"));

        Assert.Equal(
            [
                ("/etc/apt/sources.list", "http://mirror.example/debian", false),
                ("/etc/apt/sources.list", "http://mirror.example/debian/", false),
                ("/etc/apt/sources.list.d/debian.sources", "http://mirror.example/debian", false),
                ("/etc/apt/sources.list.d/local.list", "copy:/srv/cache", true),
            ],
            sources.Select(s => (s.File, s.Uri, s.Trusted)));
    }

    [Fact]
    public void With_an_image_mirror_build_time_sources_and_the_build_mirror_are_problems_and_the_security_archive_stays()
    {
        var sources = QemuBuiltInChecks.ParseAptSources(Sources.Replace("\r\n", "\n"));

        var problems = QemuBuiltInChecks.AptSourceProblems(sources, "http://MIRROR.example/debian/");

        Assert.Equal(["/etc/apt/sources.list.d/local.list: 'copy:/srv/cache' is marked trusted (a build-time source)"], problems);

        var bootstrapped = QemuBuiltInChecks.ParseAptSources("""
            ==> /etc/apt/sources.list
            deb http://mirror.example/debian trixie main
            deb http://mirror.example/debian trixie-updates main
            deb http://security.example/debian-security trixie-security main
            deb http://build.example/debian trixie main
            """);
        Assert.Equal(["/etc/apt/sources.list: 'http://build.example/debian' is the build mirror, not the image mirror 'http://mirror.example/debian'"],
            QemuBuiltInChecks.AptSourceProblems(bootstrapped, "http://mirror.example/debian", [], "http://build.example/debian/"));
        Assert.Equal(["no source names the image mirror 'http://other.example/debian'"],
            QemuBuiltInChecks.AptSourceProblems(bootstrapped.Take(3).ToList(), "http://other.example/debian"));
    }

    [Fact]
    public void Without_an_image_mirror_only_build_time_sources_are_problems()
    {
        var sources = QemuBuiltInChecks.ParseAptSources(
            "==> /etc/apt/sources.list\ndeb http://deb.example/debian trixie main\ndeb file:/srv/repo ./\ndeb http://127.0.0.1:3142/debian trixie main\n");

        var problems = QemuBuiltInChecks.AptSourceProblems(sources, "");

        Assert.Equal(2, problems.Count);
        Assert.Contains("local file: archive", problems[0], StringComparison.Ordinal);
        Assert.Contains("loopback", problems[1]);
        Assert.Empty(QemuBuiltInChecks.AptSourceProblems(QemuBuiltInChecks.ParseAptSources("==> /etc/apt/sources.list\ndeb http://deb.example/debian trixie main\n"), null));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_built_in_commands_are_valid_shell_as_typed(bool viaSudo)
    {
        foreach (var command in new[] { QemuBuiltInChecks.SystemStateCommand(viaSudo), QemuBuiltInChecks.RootShadowCommand, QemuBuiltInChecks.AptSourcesCommand, QemuBuiltInChecks.PolicyRcDCommand })
        {
            var typed = QemuShellCommand.Build(command, 7);
            var psi = new System.Diagnostics.ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
            // the typed line must parse, and eval must see exactly the command
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(typed.Replace("eval ", "printf '%s' ", StringComparison.Ordinal).Replace("; echo LIVEIMAGE''_END_7_$?", "", StringComparison.Ordinal));
            using var bash = System.Diagnostics.Process.Start(psi)!;
            var stdout = bash.StandardOutput.ReadToEnd();
            bash.WaitForExit();
            Assert.Equal(0, bash.ExitCode);
            Assert.Equal("LIVEIMAGE_BEGIN_7\n" + command, stdout);
        }
        Assert.Equal(viaSudo, QemuBuiltInChecks.SystemStateCommand(viaSudo).StartsWith("sudo -p 'LIVEIMAGE''_SUDO: ' sh -c '", StringComparison.Ordinal));
        Assert.True(QemuBuiltInChecks.NoBus("state: Failed to connect to system scope bus via local transport: No such file or directory"));
    }

    [Theory]
    [InlineData(600, 300)]   // the default boot timeout
    [InlineData(1800, 900)]  // a desktop under TCG
    [InlineData(60, 120)]    // never less than two minutes
    public void TheSystemStateWaitGrowsWithTheBootTimeout(int bootTimeout, int wait)
    {
        Assert.Equal(wait, QemuBuiltInChecks.SystemStateWaitSeconds(TimeSpan.FromSeconds(bootTimeout)));
        Assert.Contains($"timeout {wait} systemctl is-system-running --wait", QemuBuiltInChecks.SystemStateCommand(true, wait));
        Assert.Equal(TimeSpan.FromSeconds(wait + 60), QemuBuiltInChecks.SystemStateTimeout(wait));
    }

    [Fact]
    public void The_sudo_prompt_is_not_in_the_echo_of_the_typed_command()
    {
        var typed = QemuShellCommand.Build(QemuBuiltInChecks.RootShadowCommand, 3);

        Assert.DoesNotContain(QemuBuiltInChecks.SudoPrompt, typed);
        Assert.Contains("sudo -p", typed);
    }

    // ---- JUnit ---------------------------------------------------------------------------------

    [Fact]
    public void The_junit_report_has_one_testcase_per_mode_with_the_coded_failure_and_the_logs()
    {
        var cases = new List<BootCaseResult>
        {
            new("bios-cdrom", BootOutcome.Passed, 95.25, SerialLog: "/o/boot/bios-cdrom.serial.log", Screenshot: "/o/boot/bios-cdrom.png", Accelerator: "tcg", SecondsToLogin: 80.5),
            new("netboot", BootOutcome.Failed, 120, Code: "LIVE5003",
                Message: "LIVE5003: Boot check 'echo hi' failed on img booted as netboot: its output does not contain 'bye'\u001b[0m\nFull console log: /o/boot/netboot.serial.log",
                SerialLog: "/o/boot/netboot.serial.log", Screenshot: "/o/boot/netboot.png"),
            new("uefi-usb", BootOutcome.Skipped, 0, Message: "not booted: an earlier mode failed"),
        };

        var xml = JUnitReport.Build("img", "amd64", cases, new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "sub/junit.xml");
        JUnitReport.Write(path, xml);
        var read = XDocument.Load(path);

        var suites = read.Root!;
        Assert.Equal("testsuites", suites.Name.LocalName);
        Assert.Equal("3", suites.Attribute("tests")!.Value);
        Assert.Equal("1", suites.Attribute("failures")!.Value);
        Assert.Equal("1", suites.Attribute("skipped")!.Value);
        var suite = Assert.Single(suites.Elements("testsuite"));
        Assert.Equal("img (amd64)", suite.Attribute("name")!.Value);
        Assert.Equal("215.250", suite.Attribute("time")!.Value);
        Assert.Equal("2026-01-02T03:04:05", suite.Attribute("timestamp")!.Value);
        var testcases = suite.Elements("testcase").ToList();
        Assert.Equal(["bios-cdrom", "netboot", "uefi-usb"], testcases.Select(t => t.Attribute("name")!.Value));
        Assert.All(testcases, t => Assert.Equal("img.amd64", t.Attribute("classname")!.Value));

        Assert.Empty(testcases[0].Elements("failure"));
        Assert.Contains("[[ATTACHMENT|/o/boot/bios-cdrom.png]]", testcases[0].Element("system-out")!.Value);
        Assert.Contains("login prompt after 80.5 s (accelerator tcg)", testcases[0].Element("system-out")!.Value);

        var failure = Assert.Single(testcases[1].Elements("failure"));
        Assert.Equal("LIVE5003", failure.Attribute("type")!.Value);
        Assert.StartsWith("LIVE5003: Boot check 'echo hi' failed", failure.Attribute("message")!.Value);
        Assert.DoesNotContain("\n", failure.Attribute("message")!.Value);
        Assert.Contains("Full console log: /o/boot/netboot.serial.log", failure.Value);
        Assert.False(failure.Value.Contains('\u001b', StringComparison.Ordinal), "control characters are dropped");
        Assert.Contains("[[ATTACHMENT|/o/boot/netboot.serial.log]]", testcases[1].Element("system-out")!.Value);

        Assert.Equal("not booted: an earlier mode failed", testcases[2].Element("skipped")!.Attribute("message")!.Value);
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Theory]
    [InlineData("LIVE5003: Boot check failed", "LIVE5003")]
    [InlineData("LIVE9002: BootTest was cancelled", "LIVE9002")]
    [InlineData("something else: x", null)]
    [InlineData("LIVEABCD: x", null)]
    public void The_code_is_taken_from_the_start_of_a_coded_message(string message, string? code)
    {
        Assert.Equal(code, JUnitReport.CodeOf(message));
    }
}
