using LiveImage.Tasks.Configuration;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace LiveImage.Tasks.BootTesting;

/// <summary>
/// Which accelerator a boot starts with, and the fall back from KVM to TCG when KVM turns out
/// unusable (said once per build, remembered for the boots after it).
/// </summary>
internal static class QemuKvmFallback
{
    public static QemuAccel FirstAccelerator(QemuBootSettings _s, TaskLoggingHelper log) =>
        FirstAccelerator(_s.AcceleratorRequest, _s.Machine, _s.KvmDevice, log);

    /// <summary>The accelerator for <paramref name="request"/> (auto, kvm or tcg) on this host.</summary>
    public static QemuAccel FirstAccelerator(string request, QemuMachine machine, string kvmDevice, TaskLoggingHelper log)
    {
        switch (request)
        {
            case QemuAccelerator.Kvm: return QemuAccel.Kvm;
            case QemuAccelerator.Tcg: return QemuAccel.Tcg;
        }
        // KVM runs guests of the host's own architecture only (qemu-system-aarch64 on amd64: "invalid accelerator kvm")
        if (!machine.KvmHosts.Contains(DebianArchitecture.Host)) return QemuAccel.Tcg;
        if (QemuAccelerator.KnownUnusableReason is { } known)
        {
            log.LogMessageFromResources(MessageImportance.Normal, nameof(Strings.KvmUnusable), known);
            return QemuAccel.Tcg;
        }
        if (QemuAccelerator.HostProblem(kvmDevice) is { } problem)
        {
            if (QemuAccelerator.MarkUnusable(problem))
                log.LogMessageFromResources(MessageImportance.High, nameof(Strings.KvmUnusable), problem);
            return QemuAccel.Tcg;
        }
        return QemuAccel.Kvm;
    }

    /// <summary>KVM failed while probing it: notes it in the qemu log, says it (once), and returns the accelerator to retry with.</summary>
    public static QemuAccel FallBack(QemuProcess qemu, string kvmFailure, TaskLoggingHelper log)
    {
        qemu.Note("KVM unusable: " + kvmFailure + "; retrying with TCG");
        return FallBack(kvmFailure, log);
    }

    /// <summary>KVM failed: says it (once) and returns the accelerator to retry with.</summary>
    public static QemuAccel FallBack(string kvmFailure, TaskLoggingHelper log)
    {
        if (QemuAccelerator.MarkUnusable(kvmFailure))
            log.LogMessageFromResources(MessageImportance.High, nameof(Strings.KvmUnusable), kvmFailure);
        return QemuAccel.Tcg;
    }
}
