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
    public static QemuAccel FirstAccelerator(QemuBootSettings _s, TaskLoggingHelper log)
    {
        switch (_s.AcceleratorRequest)
        {
            case QemuAccelerator.Kvm: return QemuAccel.Kvm;
            case QemuAccelerator.Tcg: return QemuAccel.Tcg;
        }
        // KVM runs guests of the host's own architecture only (qemu-system-aarch64 on amd64: "invalid accelerator kvm")
        if (!_s.Machine.KvmHosts.Contains(DebianArchitecture.Host)) return QemuAccel.Tcg;
        if (QemuAccelerator.KnownUnusableReason is { } known)
        {
            log.LogMessageFromResources(MessageImportance.Normal, nameof(Strings.KvmUnusable), known);
            return QemuAccel.Tcg;
        }
        if (QemuAccelerator.HostProblem(_s.KvmDevice) is { } problem)
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
        if (QemuAccelerator.MarkUnusable(kvmFailure))
            log.LogMessageFromResources(MessageImportance.High, nameof(Strings.KvmUnusable), kvmFailure);
        return QemuAccel.Tcg;
    }
}
