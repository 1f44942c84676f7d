using LiveImage.Tasks.Distributions;
using LiveImage.Tasks.Rootfs;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>Copies the newest kernel and its initrd out of the image (read-only view) for the boot loaders; the squash stage does the same before it squashes.</summary>
public sealed class ExtractKernel : LiveImageTask
{
    [Required] public ITaskItem[] Layers { get; set; } = [];
    [Required] public string ScratchDirectory { get; set; } = "";
    [Required] public string OutputDirectory { get; set; } = "";
    [Required] public string LogFile { get; set; } = "";
    public string KernelPackage { get; set; } = "";
    /// <summary>Copy all the kernel's device trees (/usr/lib/linux-image-&lt;version&gt;/) to <see cref="DtbDirectory"/>.</summary>
    public bool IncludeDtb { get; set; }
    /// <summary>One device tree, relative to the kernel's device tree directory, copied to <see cref="DtbDirectory"/>.</summary>
    public string Dtb { get; set; } = "";
    /// <summary>The medium's /dtb directory; emptied when neither IncludeDtb nor Dtb asks for device trees.</summary>
    public string DtbDirectory { get; set; } = "";

    /// <summary>The distribution whose kernel file names are looked for.</summary>
    public string Distribution { get; set; } = KnownDistributions.Default;

    [Output] public string KernelVersion { get; private set; } = "";

    protected override void ExecuteCore() =>
        KernelVersion = new KernelExtraction(Layers, ScratchDirectory, OutputDirectory, LogFile, KernelPackage, IncludeDtb, Dtb, DtbDirectory,
            KnownDistributions.Get(Distribution).Kernel).Run(CreateRunner());
}
