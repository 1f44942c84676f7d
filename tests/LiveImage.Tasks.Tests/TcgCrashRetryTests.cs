using LiveImage.Tasks.BootTesting;
using LiveImage.Tasks.Diagnostics;

namespace LiveImage.Tasks.Tests;

/// <summary>
/// Under TCG a guest kernel can crash in its first seconds through no fault of the image (qemu's emulation of
/// code patching on an SMP guest). The boot test boots such a mode once more, and only once: a fake qemu whose
/// "kernel" oopses on every boot is booted twice and the second crash is the verdict.
/// </summary>
[Collection(nameof(KvmFallbackTests))] // the KVM verdict is process-wide
public sealed class TcgCrashRetryTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeBuildEngine _engine = new();
    private readonly string _calls;

    public TcgCrashRetryTests() => _calls = Path.Combine(_dir.Path, "calls");

    private QemuBootRun Run(string kernelOutput)
    {
        var qemu = _dir.File("qemu-system-x86_64", $$"""
            #!/bin/sh
            echo "$*" >> '{{_calls}}'
            printf 'Linux version 6.12.0-fake\r\n{{kernelOutput}}'
            sleep 60
            """, executable: true);
        var settings = new QemuBootSettings(QemuMachine.Amd64, qemu, "/usr/bin/setpriv", _dir.File("live.iso", "not an ISO"), "fake", QemuAccelerator.Tcg,
            256, 1, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30), "user", "live", Path.Combine(_dir.Path, "logs"), "", "", [])
        {
            Screenshots = false,
        };
        return new QemuBootRun(settings, new BootTest { BuildEngine = _engine }.Log, CancellationToken.None);
    }

    private string[] Calls => File.ReadAllLines(_calls);

    [Fact]
    public void A_kernel_that_oopses_under_tcg_is_booted_once_more_and_its_second_crash_is_the_verdict()
    {
        var run = Run(@"Oops: int3: 0000 [#1] PREEMPT SMP NOPTI\r\nKernel panic - not syncing: Attempted to kill the idle task!\r\n");

        var e = Assert.Throws<LiveImageException>(() => run.Boot(QemuBootMode.BiosCdrom));

        Assert.Equal("BootTimeout", e.ResourceName);
        Assert.Contains("Oops: int3", e.Message);
        Assert.Equal(2, Calls.Length);
        Assert.All(Calls, c => Assert.Contains("-accel tcg", c));
        var said = Assert.Single(_engine.Messages, m => m.Message!.Contains("booting once more", StringComparison.Ordinal));
        Assert.StartsWith("bios-cdrom: the guest kernel crashed under TCG after ", said.Message);
        Assert.Contains("(Oops: int3: 0000 [#1] PREEMPT SMP NOPTI)", said.Message);
    }

    [Fact]
    public void A_panic_without_a_crash_report_is_not_retried()
    {
        var run = Run(@"Kernel panic - not syncing: VFS: Unable to mount root fs\r\n");

        var e = Assert.Throws<LiveImageException>(() => run.Boot(QemuBootMode.BiosCdrom));

        Assert.Equal("BootTimeout", e.ResourceName);
        Assert.Single(Calls);
        Assert.DoesNotContain(_engine.Messages, m => m.Message!.Contains("booting once more", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        QemuAccelerator.ResetForTests();
        _dir.Dispose();
    }
}
