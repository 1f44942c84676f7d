using LiveImage.Tasks.Diagnostics;

namespace LiveImage.Tasks.Iso;

/// <summary>A prebuilt module (a LiveModule item): its file and its name in live/.</summary>
internal sealed record TopModule(string Source, string Name);

/// <summary>
/// Puts prebuilt modules on top of the image's stack in live/: copied in, and listed last in
/// filesystem.module, which live-boot stacks bottom first. An image of one filesystem.squashfs gets a
/// filesystem.module listing it and the modules. The names it added are kept in a record file, so a
/// module no longer asked for is taken out again, and the list the squash stage wrote stays the bottom.
/// </summary>
internal static class TopModules
{
    public const string Merged = "filesystem.squashfs";

    public static IReadOnlyList<string> Stack(string live, IReadOnlyList<TopModule> modules, string record)
    {
        var previous = File.Exists(record) ? File.ReadAllLines(record).Where(l => l.Length > 0).ToList() : [];
        var list = Path.Combine(live, Squash.ModuleList);
        var merged = File.Exists(Path.Combine(live, Merged));
        var below = merged
            ? [Merged]
            : File.Exists(list) ? File.ReadAllLines(list).Where(l => l.Length > 0 && !previous.Contains(l)).ToList() : [];
        foreach (var module in modules)
            if (below.Contains(module.Name))
                throw new LiveImageException(nameof(Strings.LiveModuleNameTaken), module.Source, module.Name, string.Join(", ", below));

        foreach (var name in previous.Except(modules.Select(m => m.Name))) File.Delete(Path.Combine(live, name));
        foreach (var module in modules)
        {
            var target = Path.Combine(live, module.Name);
            File.Copy(module.Source, target + ".tmp", overwrite: true);
            File.Move(target + ".tmp", target, overwrite: true);
        }
        var stack = below.Concat(modules.Select(m => m.Name)).ToList();
        if (merged && modules.Count == 0) File.Delete(list);
        // written only when it changes: the netboot stage of a stack reads it, and a new time would rerun that stage
        else if (!File.Exists(list) || !File.ReadAllLines(list).SequenceEqual(stack)) File.WriteAllLines(list, stack);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(record))!);
        File.WriteAllLines(record, modules.Select(m => m.Name));
        return stack;
    }
}
