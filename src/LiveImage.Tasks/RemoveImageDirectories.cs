using LiveImage.Tasks.Rootfs;

namespace LiveImage.Tasks;

/// <summary>
/// Removes build directories that hold image files (the layers): a build without root must do it in
/// its user namespace, since the files belong to the image's users (<see cref="UserNamespace"/>).
/// </summary>
public sealed class RemoveImageDirectories : LiveImageTask
{
    public string[] Directories { get; set; } = [];

    protected override void ExecuteCore()
    {
        foreach (var directory in Directories.Where(d => d.Length > 0)) UserNamespace.RemoveTree(directory);
    }
}
