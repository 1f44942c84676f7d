using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// Issue 4 on the minimal sample: the netboot folder, -t:Serve, and one netboot boot (PXE and TFTP for
/// the kernel, HTTP from 127.0.0.1 for the squashfs) that both shows the netboot mode reaching the login
/// prompt and passing the built-in checks, and a deliberately failing BootCheck producing LIVE5003 with
/// the logs kept. The boot is shared by two tests, so it costs one TCG boot.
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed class NetbootImageTests(MinimalImageFixture image, ITestOutputHelper output)
{
    private const string FailingCheck = "echo liveimage-netboot-check";
    private const string MissingText = "text-that-is-not-there";

    private static readonly object Gate = new();
    private static BootRun? s_boot;

    private sealed record BootRun(BuildResult Result, string LogDirectory);

    private string Netboot => Path.Combine(image.ProjectDirectory, "bin/Release/amd64/netboot");

    private void AssertColdBuildSucceeded()
    {
        if (!image.ColdBuild.Succeeded) output.WriteLine(image.ColdBuild.Output);
        Assert.True(image.ColdBuild.Succeeded, "the cold build of the minimal sample failed; its output is above");
    }

    private static string Inode(string path)
    {
        var (code, text) = Tools.Run("stat", "-c", "%d:%i", path);
        Assert.True(code == 0, text);
        return text.Trim();
    }

    [Fact]
    public void BuildWritesTheNetbootFolderWithLinksAndBootLoadersFetchingFromNetbootServer()
    {
        AssertColdBuildSucceeded();
        foreach (var file in new[]
                 {
                     "vmlinuz", "initrd.img", "filesystem.squashfs", "pxelinux.0", "lpxelinux.0", "ldlinux.c32", "menu.c32", "libutil.c32",
                     "pxelinux.cfg/default", "bootx64.efi", "grub/grub.cfg", "boot.ipxe",
                 })
        {
            Assert.True(File.Exists(Path.Combine(Netboot, file)), $"netboot/{file} is missing");
        }
        Assert.False(Directory.Exists(Netboot + ".tmp"));
        Assert.Equal(Inode(image.Squashfs), Inode(Path.Combine(Netboot, "filesystem.squashfs")));
        Assert.Equal(File.ReadAllBytes("/usr/lib/PXELINUX/pxelinux.0"), File.ReadAllBytes(Path.Combine(Netboot, "pxelinux.0")));
        Assert.Equal("MZ"u8.ToArray(), File.ReadAllBytes(Path.Combine(Netboot, "bootx64.efi"))[..2]);

        const string arguments = "boot=live components fetch=http://10.0.2.2:8080/filesystem.squashfs console=tty0 console=ttyS0,115200n8";
        var pxelinux = File.ReadAllText(Path.Combine(Netboot, "pxelinux.cfg/default"));
        Assert.Contains("SERIAL 0 115200\n", pxelinux);
        Assert.Contains("  KERNEL vmlinuz\n  APPEND initrd=initrd.img " + arguments + "\n", pxelinux);
        Assert.Contains("    linux /vmlinuz " + arguments + "\n    initrd /initrd.img\n", File.ReadAllText(Path.Combine(Netboot, "grub/grub.cfg")));
        Assert.Contains("kernel http://10.0.2.2:8080/vmlinuz initrd=initrd.img " + arguments + "\ninitrd http://10.0.2.2:8080/initrd.img\nboot\n",
            File.ReadAllText(Path.Combine(Netboot, "boot.ipxe")));
        Assert.Contains("netboot [amd64]: " + Netboot + "/", image.ColdBuild.Output);
    }

    [Fact]
    public async Task ServeAnswersRangeRequestsUntilCtrlCAndDoesNotRewriteTheFolder()
    {
        AssertColdBuildSucceeded();
        var squashfs = Path.Combine(Netboot, "filesystem.squashfs");
        var lines = new BlockingCollection<string>();
        var all = new System.Text.StringBuilder();
        using var serve = image.Workspace.Start(image.ProjectDirectory, "-t:Serve", "-p:NetbootServePort=0");
        serve.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Add(e.Data); };
        serve.ErrorDataReceived += (_, e) => { if (e.Data is not null) lines.Add(e.Data); };
        serve.BeginOutputReadLine();
        serve.BeginErrorReadLine();
        try
        {
            string? url = null;
            var deadline = DateTime.UtcNow.AddMinutes(3);
            while (url is null && DateTime.UtcNow < deadline && !serve.HasExited)
            {
                if (!lines.TryTake(out var line, 1000)) continue;
                all.AppendLine(line);
                var m = Regex.Match(line, @"serve \[amd64\]: .* at (http://127\.0\.0\.1:\d+/) \(Ctrl\+C stops\)");
                if (m.Success) url = m.Groups[1].Value;
            }
            Assert.True(url is not null, "no 'serve [amd64]: ... at http://127.0.0.1:PORT/' line within 3 minutes:\n" + all);

            using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) })
            {
                var request = new HttpRequestMessage(HttpMethod.Get, url + "filesystem.squashfs");
                request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(4096, 8191);
                using var response = await http.SendAsync(request);
                Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
                var body = await response.Content.ReadAsByteArrayAsync();
                using var file = File.OpenRead(squashfs);
                var expected = new byte[4096];
                file.Seek(4096, SeekOrigin.Begin);
                file.ReadExactly(expected);
                Assert.Equal(expected, body);
                Assert.Contains("fetch=http://10.0.2.2:8080/", await http.GetStringAsync(url + "pxelinux.cfg/default"));
            }

            Assert.Equal(0, Tools.Run("kill", "-INT", serve.Id.ToString()).ExitCode);
            using (var stopped = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                try { await serve.WaitForExitAsync(stopped.Token); }
                catch (OperationCanceledException) { Assert.Fail("-t:Serve did not stop within 60 s of Ctrl+C (SIGINT)"); }
            }
            while (lines.TryTake(out var rest)) all.AppendLine(rest);
            output.WriteLine(all.ToString());
            Assert.Contains("serve: stopped serving " + url, all.ToString());
            Assert.Contains("\"GET /filesystem.squashfs\" 206 4096 range bytes=4096-8191", all.ToString());
            Assert.Contains("Skipping target \"LiveImageNetboot\" because all output files are up-to-date", all.ToString());
            Assert.DoesNotContain("error LIVE", all.ToString());

            using var listener = new TcpListener(IPAddress.Loopback, new Uri(url).Port);
            listener.Start(); // the port is free again
            listener.Stop();
        }
        finally
        {
            if (!serve.HasExited) serve.Kill(entireProcessTree: true);
        }
    }

    /// <summary>
    /// Boots the netboot folder once, with two BootCheck items added through CustomAfterLiveImageTargets:
    /// one that passes and one that fails on purpose. Logs go to a directory of this test's own.
    /// </summary>
    private BootRun BootNetbootOnce()
    {
        lock (Gate)
        {
            if (s_boot is not null) return s_boot;
            AssertColdBuildSucceeded();
            var dir = Path.Combine(image.Workspace.Root, "netboot-boot-test");
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            Directory.CreateDirectory(dir);
            var checks = Path.Combine(dir, "checks.targets");
            File.WriteAllText(checks, $"""
                <Project>
                  <ItemGroup>
                    <BootCheck Include="cat /etc/hostname" Expect="debian" />
                    <BootCheck Include="{FailingCheck}" Expect="{MissingText}" />
                  </ItemGroup>
                </Project>
                """);
            var logs = Path.Combine(dir, "logs") + "/";
            var result = image.Workspace.Build(image.ProjectDirectory, output,
                "-t:BootTest", "-p:BootTestModes=netboot", "-p:BootTestLogDirectory=" + logs, "-p:CustomAfterLiveImageTargets=" + checks);
            s_boot = new BootRun(result, logs);
            return s_boot;
        }
    }

    [Fact]
    public void NetbootBootsOverPxeAndHttpToLoginAndPassesTheBuiltInChecks()
    {
        var boot = BootNetbootOnce();
        var text = boot.Result.Output;

        var login = Regex.Match(text, @"netboot: login prompt after ([\d.]+) s");
        Assert.True(login.Success, "the netboot mode did not reach the login prompt");
        output.WriteLine($"netboot: login prompt after {login.Groups[1].Value} s");
        Assert.Matches(@"netboot: system running|boot test netboot: the system is degraded", text);
        // the only failure is the deliberately failing check, the last one: every built-in check and the first BootCheck passed
        Assert.Equal(["LIVE5003"], Regex.Matches(text, @"error (LIVE\d{4})").Select(m => m.Groups[1].Value).Distinct());
        Assert.Contains($"Boot check '{FailingCheck}' failed", text);

        var serial = File.ReadAllText(Path.Combine(boot.LogDirectory, "netboot.serial.log"));
        Assert.Contains("PXELINUX", serial);
        Assert.Matches(@"fetch=http://10\.0\.2\.2:\d+/filesystem\.squashfs", serial);
        var http = File.ReadAllText(Path.Combine(boot.LogDirectory, "netboot.http.log"));
        Assert.Contains($"\"GET /filesystem.squashfs\" 200 {new FileInfo(image.Squashfs).Length}", http);
    }

    [Fact]
    public void AFailingBootCheckIsLIVE5003AndKeepsTheSerialLogScreenshotAndJUnitFailure()
    {
        var boot = BootNetbootOnce();
        var text = boot.Result.Output;

        Assert.False(boot.Result.Succeeded);
        Assert.Contains($"error LIVE5003: Boot check '{FailingCheck}' failed on debian-live-minimal booted as netboot: its output does not contain '{MissingText}'", text);

        var serialLog = Path.Combine(boot.LogDirectory, "netboot.serial.log");
        Assert.Contains("Full console log: " + serialLog, text);
        Assert.Contains("liveimage-netboot-check", File.ReadAllText(serialLog));

        var png = File.ReadAllBytes(Path.Combine(boot.LogDirectory, "netboot.png"));
        Assert.True(png.Length > 1000, "the screenshot is too small to show anything");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);

        var junit = XDocument.Load(Path.Combine(boot.LogDirectory, "junit.xml"));
        // a test case for the mode (with the logs attached), one per check: only the failing check's fails
        var cases = junit.Descendants("testcase").ToList();
        var mode = Assert.Single(cases, c => c.Attribute("name")!.Value == "netboot");
        Assert.Contains("[[ATTACHMENT|" + serialLog + "]]", mode.Element("system-out")!.Value);
        var failed = Assert.Single(cases, c => c.Elements("failure").Any());
        Assert.Equal($"netboot: {FailingCheck}", failed.Attribute("name")!.Value);
        var failure = Assert.Single(failed.Elements("failure"));
        Assert.Equal("LIVE5003", failure.Attribute("type")!.Value);
        Assert.StartsWith($"LIVE5003: Boot check '{FailingCheck}' failed", failure.Attribute("message")!.Value);

        // qemu and the HTTP server are gone, the port is free, the temporary TFTP root removed
        Assert.Empty(Tools.ProcessesMentioning(boot.LogDirectory));
        Assert.False(Directory.Exists(Path.Combine(boot.LogDirectory, ".netboot.tmp")));
        var port = int.Parse(Regex.Match(File.ReadAllText(Path.Combine(boot.LogDirectory, "netboot.http.log")), @"at http://127\.0\.0\.1:(\d+)/").Groups[1].Value);
        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        listener.Stop();
    }
}
