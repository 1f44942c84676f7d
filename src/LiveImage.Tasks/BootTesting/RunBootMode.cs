using LiveImage.Tasks.Diagnostics;

namespace LiveImage.Tasks.BootTesting;

/// <summary>The choices of <see cref="RunImage"/> that are words: the boot mode and whether there is a window.</summary>
internal static class RunBootMode
{
    /// <summary>
    /// bios or uefi boot the ISO as a CD-ROM; any ISO mode of the boot test (bios-usb ...) is taken as it is;
    /// empty: the first mode the machine has (BIOS on a PC, UEFI on arm64). Anything else is LIVE5004.
    /// </summary>
    public static QemuBootMode Parse(string value, QemuMachine machine)
    {
        var name = value.Trim().ToLowerInvariant() switch
        {
            "" => machine.SupportedModes[0].Name,
            "bios" => QemuBootMode.BiosCdrom.Name,
            "uefi" => QemuBootMode.UefiCdrom.Name,
            var other => other,
        };
        var isoModes = machine.SupportedModes.Where(m => !m.IsNetwork).ToList();
        string[] words = machine.HasBios ? ["bios", "uefi"] : ["uefi"];
        return isoModes.FirstOrDefault(m => m.Name == name)
            ?? throw new LiveImageException(nameof(Strings.UnknownBootMode), value, string.Join(", ", [.. words, .. isoModes.Select(m => m.Name)]));
    }

    /// <summary>auto: a window when a display exists; window; none. Null for another word.</summary>
    public static bool? WantsWindow(string value, string? x11Display, string? waylandDisplay) => value.Trim().ToLowerInvariant() switch
    {
        "" or "auto" => !string.IsNullOrEmpty(x11Display) || !string.IsNullOrEmpty(waylandDisplay),
        "window" => true,
        "none" => false,
        _ => null,
    };
}
