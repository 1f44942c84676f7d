using System.Diagnostics;
using System.Text.RegularExpressions;
using LiveImage.Tasks.Diagnostics;

namespace LiveImage.Tasks.BootTesting;

/// <summary>
/// Boots another entry of isolinux's menu than the default (BootTestMenuEntry): as soon as menu.c32 shows
/// its menu on the serial console, Escape leaves it for isolinux's 'boot:' prompt, where the entry's label
/// is typed. Only the BIOS modes show isolinux.
/// </summary>
internal static partial class QemuMenuChoice
{
    [GeneratedRegex(@"Press \[Tab\] to edit options|Automatic boot in", RegexOptions.CultureInvariant)]
    private static partial Regex Menu();

    [GeneratedRegex(@"boot: ", RegexOptions.CultureInvariant)]
    private static partial Regex BootPrompt();

    /// <summary>
    /// Chooses <paramref name="label"/>. Returns null once the label is typed, or (only while probing KVM)
    /// why KVM is unusable when the menu never came under it; throws LIVE5015 when the menu or the prompt
    /// does not come in time.
    /// </summary>
    public static string? Choose(QemuProcess qemu, string label, QemuBootSettings s, QemuBootMode mode, QemuAccel accel, bool probeKvm,
        string serialLog, CancellationToken cancellation)
    {
        var console = qemu.Console;
        var clock = Stopwatch.StartNew();
        var from = 0;
        var escaped = false;
        var lastEscape = TimeSpan.Zero;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            var closed = console.IsClosed;
            var length = console.Length;
            var text = console.Read(from);
            if (!escaped && Menu().Match(text) is { Success: true } menu)
            {
                from += menu.Index + menu.Length;
                qemu.Send("\x1b", logAs: "(Escape: isolinux's boot prompt)");
                escaped = true;
                lastEscape = clock.Elapsed;
                continue;
            }
            if (escaped && BootPrompt().Match(text) is { Success: true })
            {
                qemu.Send(label + "\r");
                return null;
            }
            // a key pressed while menu.c32 was still loading may be lost: press it again
            if (escaped && clock.Elapsed - lastEscape >= TimeSpan.FromSeconds(3))
            {
                qemu.Send("\x1b", logAs: "(Escape again)");
                lastEscape = clock.Elapsed;
            }
            if (accel == QemuAccel.Kvm && probeKvm && (QemuAccelerator.KvmFailureIn(qemu.Stderr) is { } failure))
                return failure;
            if (probeKvm && !escaped && (closed || clock.Elapsed >= QemuAccelerator.ProbeTime))
                return $"no boot menu on the serial console within {QemuAccelerator.ProbeTime.TotalSeconds:0} s";
            if (closed || clock.Elapsed >= s.StepTimeout)
            {
                var why = closed ? "qemu exited" : $"no {(escaped ? "'boot:' prompt after Escape" : "isolinux menu on the serial console")} within {s.StepTimeout.TotalSeconds:0} s";
                throw new LiveImageException(nameof(Strings.BootMenuEntryNotSelected), label, s.ImageName, mode.Name,
                    why + ". Last lines of the serial console:\n" + QemuConsoleText.Tail(console.Read()), serialLog);
            }
            console.WaitForMore(length, QemuBootRun.Tick);
        }
    }
}
