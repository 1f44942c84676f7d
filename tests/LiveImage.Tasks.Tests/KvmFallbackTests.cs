using LiveImage.Tasks.BootTesting;
using LiveImage.Tasks.Diagnostics;

namespace LiveImage.Tasks.Tests;

/// <summary>
/// The boot test against a fake qemu that aborts under KVM the way qemu does on a host whose KVM
/// refuses its MSR writes ("failed to set MSR", SIGABRT, exit code 134) and, under TCG, starts a
/// "kernel" that panics at once. No message list knows this failure: the rule is that any KVM run
/// that ends before the kernel's banner falls back to TCG.
/// </summary>
[Collection(nameof(KvmFallbackTests))] // the KVM verdict is process-wide
public sealed class KvmFallbackTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeBuildEngine _engine = new();
    private readonly string _calls;
    private readonly string _qemu;

    public KvmFallbackTests()
    {
        QemuAccelerator.ResetForTests();
        _calls = Path.Combine(_dir.Path, "calls");
        _qemu = _dir.File("qemu-system-x86_64", $$"""
            #!/bin/sh
            echo "$*" >> '{{_calls}}'
            case " $* " in
              *" -accel kvm "*)
                echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2
                echo "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3123: kvm_buf_set_msrs: Assertion 'ret == cpu->kvm_msr_buf->nmsrs' failed." >&2
                kill -ABRT $$ ;;
            esac
            printf 'Linux version 6.12.0-fake\r\nKernel panic - not syncing: VFS: Unable to mount root fs\r\n'
            sleep 60
            """, executable: true);
    }

    private QemuBootRun Run(string accelerator)
    {
        var settings = new QemuBootSettings(QemuMachine.Amd64, _qemu, "/usr/bin/setpriv", _dir.File("live.iso", "not an ISO"), "fake", accelerator,
            256, 1, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30), "user", "live", Path.Combine(_dir.Path, "logs"), "", "", [])
        {
            Screenshots = false,
            KvmDevice = _dir.File("kvm", ""), // opens for reading and writing, as a working /dev/kvm does
        };
        return new QemuBootRun(settings, new BootTest { BuildEngine = _engine }.Log, CancellationToken.None);
    }

    private string[] Calls => File.ReadAllLines(_calls);

    [Fact]
    public void Auto_reruns_the_mode_with_tcg_when_qemu_aborts_under_kvm_and_says_why_once()
    {
        var run = Run(QemuAccelerator.Auto);

        var e = Assert.Throws<LiveImageException>(() => run.Boot(QemuBootMode.BiosCdrom));

        // the TCG run reached the fake kernel, whose panic is the boot's verdict, not qemu's abort under KVM
        Assert.Equal("BootTimeout", e.ResourceName);
        Assert.Contains("tcg", e.Message);
        Assert.Equal(2, Calls.Length);
        Assert.Contains("-accel kvm", Calls[0]);
        Assert.Contains("-accel tcg", Calls[1]);
        var said = Assert.Single(_engine.Messages, m => m.Message!.StartsWith("KVM is not usable", StringComparison.Ordinal));
        Assert.Contains("qemu exited with code 134 before the kernel started: qemu: qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69", said.Message);

        // the verdict holds for the rest of the build: the next mode goes straight to TCG
        Assert.Throws<LiveImageException>(() => run.Boot(QemuBootMode.BiosUsb));
        Assert.Equal(3, Calls.Length);
        Assert.Contains("-accel tcg", Calls[2]);
    }

    [Fact]
    public void An_explicit_kvm_request_fails_and_names_the_property_that_avoids_kvm()
    {
        var run = Run(QemuAccelerator.Kvm);

        var e = Assert.Throws<LiveImageException>(() => run.Boot(QemuBootMode.BiosCdrom));

        Assert.Equal("QemuFailed", e.ResourceName);
        Assert.StartsWith("LIVE5005: qemu exited with code 134 (under KVM", e.Message);
        Assert.Contains("BootTestAccelerator=tcg", e.Message);
        Assert.Contains("failed to set MSR", e.Message);
        Assert.Single(Calls);
    }

    [Fact]
    public void The_kvm_verdict_is_kept_and_reported_only_once()
    {
        Assert.Null(QemuAccelerator.KnownUnusableReason);
        Assert.True(QemuAccelerator.MarkUnusable("first"));
        Assert.False(QemuAccelerator.MarkUnusable("second"));
        Assert.Equal("first", QemuAccelerator.KnownUnusableReason);
    }

    public void Dispose()
    {
        QemuAccelerator.ResetForTests();
        _dir.Dispose();
    }
}
