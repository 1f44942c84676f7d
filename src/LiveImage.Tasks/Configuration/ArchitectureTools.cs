namespace LiveImage.Tasks.Configuration;

/// <summary>
/// How the image's programs run on this host (natively or through qemu-user), where GRUB's EFI
/// modules come from, and the host tools that needs: arch-test for any other architecture (mmdebstrap
/// asks it), qemu-user-static for an emulated one, update-binfmts when the build may register the
/// handler, the GRUB package on the host unless the bootstrap takes it from the image's archive.
/// </summary>
internal sealed record ArchitectureTools(IReadOnlyList<string> Tools, string EmulatedArchitecture, string GrubEfiDirectory, string GrubEfiPackage)
{
    public static ArchitectureTools Resolve(DebianArchitecture arch, string hostArchitecture, Func<string, bool> canRunNatively,
        Func<string, bool> hostDirectoryExists, bool registerBinfmt, string grubEfiFetchDirectory)
    {
        string emulated = "", grubDirectory = "", grubPackage = "";
        var tools = new List<string>();
        if (arch.Name != hostArchitecture) tools.Add("arch-test");
        if (arch.ExecutionOn(hostArchitecture, canRunNatively) == ExecutionMode.Emulated)
        {
            emulated = arch.Name;
            tools.AddRange([arch.QemuUserStatic, "setsid", "flock"]);
            if (registerBinfmt) tools.Add("update-binfmts");
        }
        if (arch.HostGrubEfiDirectory is { } grub)
        {
            if (hostDirectoryExists(grub) || arch.GrubEfiPackageHosts.Contains(hostArchitecture) || grubEfiFetchDirectory.Length == 0)
            {
                // the host's package: required where Debian has it for the host's architecture
                grubDirectory = Path.GetDirectoryName(grub)!;
                if (!hostDirectoryExists(grub)) tools.Add(grub);
            }
            else
            {
                // grub-efi-arm64-bin exists for arm64 hosts only: the bootstrap takes it from the image's archive
                grubPackage = arch.GrubEfiPackage!;
                grubDirectory = Path.Combine(Path.GetFullPath(grubEfiFetchDirectory), "usr/lib/grub");
                tools.Add("dpkg-deb");
            }
        }
        return new ArchitectureTools(tools, emulated, grubDirectory, grubPackage);
    }
}
