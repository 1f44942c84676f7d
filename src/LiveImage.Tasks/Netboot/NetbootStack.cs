using System.Net;
using LiveImage.Tasks.Diagnostics;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace LiveImage.Tasks.Netboot;

/// <summary>
/// Writes one image's stack into a netboot folder that other stacks may share: its modules (a module
/// already there with the same content is kept, so a shared module is there once), its kernel, its
/// initrd with the SDK's initramfs script added, its manifest and its menu entry. Every file is
/// written under a temporary name and renamed, so a server reading the folder never sees half a file.
/// </summary>
internal sealed class NetbootStack(string folder, string image, TaskLoggingHelper log)
{
    /// <summary>Where the script goes in the initramfs: live-boot sources /lib/live/boot/????-* (lib is usr/lib there) in name order.</summary>
    public const string ScriptPath = "usr/lib/live/boot/9990-zz-liveimage-modules.sh";

    /// <summary>LIVE4031 for a server the initramfs cannot reach without name resolution, LIVE4032 for an image name unfit for file names.</summary>
    public static void Validate(string server, string image)
    {
        var host = server.StartsWith('[') ? server[1..server.IndexOf(']')] : server.Split(':')[0];
        if (!IPAddress.TryParse(host, out _)) throw new LiveImageException(nameof(Strings.NetbootStackNeedsAddress), server);
        if (!NetbootStackMenus.IsImageName(image)) throw new LiveImageException(nameof(Strings.NetbootStackImageName), image);
    }

    /// <summary>Images built in parallel into one folder take turns (an advisory lock on a file beside the folder).</summary>
    public static IDisposable Lock(string folder, CancellationToken cancel)
    {
        var path = folder.TrimEnd('/') + ".lock";
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                if (cancel.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(250))) throw new OperationCanceledException(cancel);
            }
        }
    }

    /// <summary>The modules (their files and names), bottom first, placed in the folder; returns their manifest lines.</summary>
    public IReadOnlyList<NetbootModule> AddModules(IEnumerable<(string Source, string Name)> stack)
    {
        var modules = new List<NetbootModule>();
        foreach (var (source, name) in stack)
        {
            if (!File.Exists(source)) throw new LiveImageException(nameof(Strings.NetbootInputMissing), source);
            var module = NetbootModule.Of(source, name);
            modules.Add(module);
            var target = Path.Combine(folder, name);
            if (File.Exists(target))
            {
                if (SameFile(source, target) || NetbootModule.Of(target, name) == module) continue;
                var stale = ManifestsListing(name).Where(m => m.Image != image && m.Module != module).Select(m => NetbootStackMenus.Manifest(m.Image)).ToList();
                if (stale.Count > 0) log.LogWarningWithCodeFromResources(nameof(Strings.NetbootSharedModuleChanged), name, folder, string.Join(", ", stale));
            }
            Place(source, target);
        }
        return modules;
    }

    /// <summary>&lt;image&gt;.vmlinuz (linked) and &lt;image&gt;.initrd.img: the image's initrd with the script in front, as a cpio archive of its own.</summary>
    public void AddBootFiles(string kernel, string initrd, byte[] script)
    {
        foreach (var file in new[] { kernel, initrd })
            if (!File.Exists(file)) throw new LiveImageException(nameof(Strings.NetbootInputMissing), file);
        Place(kernel, Path.Combine(folder, NetbootStackMenus.Kernel(image)));
        var target = Path.Combine(folder, NetbootStackMenus.Initrd(image));
        InitramfsAddition.Prepend(InitramfsAddition.Archive(ScriptPath, script), initrd, target + ".tmp");
        File.Move(target + ".tmp", target, overwrite: true);
    }

    public void AddManifest(IReadOnlyList<NetbootModule> modules, NetbootImageEntry entry)
    {
        WriteText(NetbootStackMenus.Menu(image), NetbootStackMenus.WriteEntry(entry));
        WriteText(NetbootStackMenus.Manifest(image), NetbootManifest.Write(modules));
    }

    /// <summary>Modules no manifest lists any more, and the files of images whose manifest is gone.</summary>
    public void RemoveOrphans()
    {
        var images = Directory.EnumerateFiles(folder, "*" + NetbootManifest.Extension).Select(f => Path.GetFileNameWithoutExtension(f)).ToHashSet(StringComparer.Ordinal);
        var listed = images.SelectMany(i => ReadManifest(i)).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            var name = Path.GetFileName(file);
            var orphan = name.EndsWith(".squashfs", StringComparison.Ordinal) ? !listed.Contains(name)
                : name.EndsWith(".vmlinuz", StringComparison.Ordinal) ? !images.Contains(name[..^".vmlinuz".Length])
                : name.EndsWith(".initrd.img", StringComparison.Ordinal) ? !images.Contains(name[..^".initrd.img".Length])
                : name.EndsWith(NetbootStackMenus.MenuExtension, StringComparison.Ordinal) && !images.Contains(name[..^NetbootStackMenus.MenuExtension.Length]);
            if (!orphan) continue;
            File.Delete(file);
            log.LogMessage(MessageImportance.Normal, $"netboot: removed {file} (no image of the folder uses it)");
        }
    }

    /// <summary>The menu entries of every image in the folder, in name order.</summary>
    public static IReadOnlyList<NetbootImageEntry> Entries(string folder) =>
        Directory.EnumerateFiles(folder, "*" + NetbootStackMenus.MenuExtension)
            .Select(f => NetbootStackMenus.ReadEntry(Path.GetFileNameWithoutExtension(f), File.ReadAllText(f)))
            .OrderBy(e => e.Image, StringComparer.Ordinal)
            .ToList();

    private IEnumerable<(string Image, NetbootModule Module)> ManifestsListing(string name) =>
        Directory.EnumerateFiles(folder, "*" + NetbootManifest.Extension)
            .Select(f => Path.GetFileNameWithoutExtension(f))
            .SelectMany(i => ReadManifest(i).Where(m => m.Name == name).Select(m => (i, m)));

    private IReadOnlyList<NetbootModule> ReadManifest(string owner)
    {
        try
        {
            return NetbootManifest.Parse(File.ReadAllText(Path.Combine(folder, NetbootStackMenus.Manifest(owner))));
        }
        catch (FormatException)
        {
            return []; // not ours: left alone
        }
    }

    /// <summary>A hard link of the source (or an untouched copy): same size and modification time, no need to hash it again.</summary>
    private static bool SameFile(string a, string b)
    {
        var (x, y) = (new FileInfo(a), new FileInfo(b));
        return x.Length == y.Length && x.LastWriteTimeUtc == y.LastWriteTimeUtc;
    }

    /// <summary>A link to (or copy of) the source under a temporary name, renamed over the target.</summary>
    private static void Place(string source, string target)
    {
        var partial = target + ".tmp";
        FileLinks.LinkOrCopy(source, partial);
        File.Move(partial, target, overwrite: true);
        // rename(2) of a link onto another link of the same file does nothing and leaves the temporary name
        File.Delete(partial);
    }

    private void WriteText(string name, string text)
    {
        var target = Path.Combine(folder, name);
        File.WriteAllText(target + ".tmp", text);
        File.Move(target + ".tmp", target, overwrite: true);
    }
}
