using LiveImage.Tasks.Configuration;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// The outer build's input check, before any inner build starts: every entry of Architectures
/// is one known architecture the suite has, separated by ';' (not ',' or a space), and the
/// project sets no misspelt SDK property. The inner builds skip the property check, so each
/// warning appears once.
/// </summary>
public sealed class CheckArchitectures : LiveImageTask
{
    /// <summary>The Architectures property as written.</summary>
    [Required] public string Architectures { get; set; } = "";
    public string Suite { get; set; } = "";
    public string ProjectFile { get; set; } = "";
    public ITaskItem[] SdkFiles { get; set; } = [];

    protected override void ExecuteCore()
    {
        // errors about Architectures point at the project line that sets it
        var at = ProjectLocations.Load(ProjectFile).Property(nameof(Architectures));
        foreach (var entry in Architectures.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (ProjectInputChecks.HasSeparatorTypo(entry))
            {
                Log.Error(at, nameof(Strings.ArchitecturesSeparator), Architectures, entry, ProjectInputChecks.AsSemicolonList(Architectures));
                continue;
            }
            var arch = DebianArchitecture.Find(entry);
            if (arch is null) Log.Error(at, nameof(Strings.UnknownArchitecture), entry, DebianArchitecture.Names);
            else if (DebianSuite.IsKnown(Suite) && !ProjectInputChecks.SuiteHasArchitecture(Suite, arch.Name))
                Log.Error(at, nameof(Strings.ArchitectureNotInSuite), Suite, arch.Name, ProjectInputChecks.SuitesWithArchitecture(arch.Name));
        }
        ResolveLiveImageConfiguration.CheckProjectFileText(Log, ProjectFile, SdkFiles);
    }
}
